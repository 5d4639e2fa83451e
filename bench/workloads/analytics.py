"""Workload 5: messages per model (count, average latency) through pgmodelnames'
view, against the same join straight on llm_models."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import bigdb
import db
from report import Results, fmt, log
from rounds import interleave, median, ratios

if TYPE_CHECKING:
    from config import Config

QUERIES = {"direct": "analytics_direct.sql", "view": "analytics_view.sql"}


def run(cfg: Config, results: Results, tmp: Path) -> None:
    log(f"\n== workload 5: analytics, messages per model (count, avg latency) on {cfg.big_rows:,} messages ==")
    dbname = bigdb.upgraded_copy(cfg)
    queries = {k: db.sql_file(f) for k, f in QUERIES.items()}
    with db.connect(cfg, dbname) as c:
        c.execute("ANALYZE")
        for q in queries.values():   # both measured with a warm cache
            c.execute(q).fetchall()

        def measure(k: str) -> float:
            t0 = time.perf_counter()
            c.execute(queries[k]).fetchall()
            return time.perf_counter() - t0

        seconds = interleave(cfg.rounds, queries, measure)
        groups = {k: len(c.execute(q).fetchall()) for k, q in queries.items()}
    log("-- seconds per round, ratio = time / direct join time (same round)")
    for k, xs in seconds.items():
        rs = ratios(xs, seconds["direct"])
        log(f"   {k:11s} s {fmt(xs)}  ratio {fmt(rs, 3)}  median {median(rs):.3f}  ({groups[k]} groups)")
        results.record("analytics", k, seconds=xs, ratios=rs, median=median(rs), groups=groups[k])
