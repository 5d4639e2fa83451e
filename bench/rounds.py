"""Interleaved rounds and the medians of per-round ratios.

Shared machines are noisy: a baseline measured minutes apart from its
variant compares the machine's mood, not the variant. So every round
measures every variant once, in turn, and each variant is compared with the
baseline of its own round; the median of those ratios is the figure."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


def interleave(rounds: int, names: Iterable[str], measure: Callable[[str], T]) -> dict[str, list[T]]:
    """{name: [measure(name) in round 1, round 2, ...]}, the names taking turns."""
    names = list(names)
    values: dict[str, list[T]] = {n: [] for n in names}
    for _ in range(rounds):
        for n in names:
            values[n].append(measure(n))
    return values


def ratios(values: list[float], baseline: list[float]) -> list[float]:
    return [v / b for v, b in zip(values, baseline)]


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def p90(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=10, method="inclusive")[8]


def p99(xs: list[float]) -> float:
    """Too few values for a percentile: the maximum."""
    return statistics.quantiles(xs, n=100)[98] if len(xs) > 100 else max(xs)
