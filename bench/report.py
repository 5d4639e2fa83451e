"""What the bench prints as it goes, and the measurements --json writes."""

from __future__ import annotations

import json
import os
from pathlib import Path

from rounds import median, ratios


def log(msg: str = "") -> None:
    print(msg, flush=True)


def load() -> str:
    """The machine's load average (1, 5, 15 min), for the log: shared machines are noisy."""
    return "load " + "/".join(f"{x:.1f}" for x in os.getloadavg())


def fmt(xs: list[float], digits: int = 2) -> str:
    return "[" + ", ".join(f"{x:.{digits}f}" for x in xs) + "]"


class Results:
    """{workload: {measurement name: data}}, the layout of bench/results/*.json."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, dict]] = {}

    def record(self, workload: str, name: str, **data) -> None:
        self.data.setdefault(workload, {})[name] = data

    def write(self, path: Path, server_config: dict) -> None:
        path.write_text(json.dumps({"config": server_config, "results": self.data}, indent=1))

    def against_baseline(self, workload: str, name: str, values: dict[str, list[float]], baseline: str,
                         *, unit: str, key: str, digits: int) -> None:
        """Log and record each variant's values as ratios to the baseline's, round by round."""
        for v, xs in values.items():
            rs = ratios(xs, values[baseline])
            log(f"   {v:9s} {unit} {fmt(xs, digits)}  ratio {fmt(rs)}  median {median(rs):.3f}")
            self.record(workload, f"{name} {v}", **{key: xs}, ratios=rs, median=median(rs))
