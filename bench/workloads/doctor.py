"""Workload 6: pgmodelnames doctor on the big database, without and with an
index on messages(model_id), against one sequential scan of messages."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import bigdb
import db
from report import Results, fmt, log
from rounds import median, ratios

if TYPE_CHECKING:
    from config import Config

INDEX = "bench_messages_model_id"


def run(cfg: Config, results: Results, tmp: Path) -> None:
    log(f"\n== workload 6: pgmodelnames doctor on {cfg.big_rows:,} messages ==")
    dbname = bigdb.upgraded_copy(cfg)
    for with_index in (False, True):
        with db.connect(cfg, dbname) as c:
            c.execute(f"DROP INDEX IF EXISTS public.{INDEX}")
            if with_index:
                c.execute(f"CREATE INDEX {INDEX} ON public.messages (model_id)")
            c.execute("ANALYZE public.messages")
        label = "with index on messages(model_id)" if with_index else "without index on messages(model_id)"
        secs, scans = [], []
        for _ in range(cfg.rounds):
            with db.connect(cfg, dbname) as c:   # the baseline: one sequential scan of messages
                t0 = time.perf_counter()
                c.execute("SELECT count(*) FROM public.messages").fetchone()
                scans.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            r = db.pgmodelnames(cfg, "doctor", "--json", db=dbname)
            secs.append(time.perf_counter() - t0)
            if r.returncode not in (0, 1):   # 1: it found problems: still a complete run
                raise SystemExit(f"doctor failed ({r.returncode}): {r.stderr.strip()}")
        rs = ratios(secs, scans)
        log(f"-- {label}: doctor s {fmt(secs)} median {median(secs):.2f}; "
            f"ratio to one count(*) scan {fmt(rs)} median {median(rs):.2f}")
        results.record("doctor", label, seconds=secs, scan_seconds=scans, ratios=rs, median_seconds=median(secs))
    with db.connect(cfg, dbname) as c:
        c.execute(f"DROP INDEX IF EXISTS public.{INDEX}")
