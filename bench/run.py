#!/usr/bin/env python3
"""pgmodelnames benchmarks: what the package costs, against no-trigger baselines.

Every comparison is interleaved (baseline, variant, baseline, variant, ...)
for --rounds rounds and reported as the median of per-round ratios against
the baseline measured in the same round, because shared machines are noisy.

    .venv/bin/python bench/run.py                      # everything (~25-30 min)
    .venv/bin/python bench/run.py --quick              # tiny sizes, seconds: proves the scripts work
    .venv/bin/python bench/run.py --only single,bulk   # a selection
    .venv/bin/python bench/run.py --only single,bulk,placeholder --rounds 5 --json bench/results/shape_0007.json   # revision 0007's figures
    .venv/bin/python bench/run.py --only upgrade,analytics,doctor --big-rows 10000000

Workloads (bench/workloads/): single (pgbench single-row INSERTs), bulk (1M-row
INSERT ... SELECT and COPY), and in both the fk reference (workload 3);
placeholder (the latency of one INSERT naming a brand-new model, workload 8);
upgrade (pgmodelnames upgrade on a big table while pgbench inserts),
analytics (the view join against the direct join), doctor (with and without
an index on messages(model_id)), sweep (sweep mode's sweeps). Variants:
bench/variants.py (--variants; the attribution variants only when named).

Needs: a local PostgreSQL (default postgresql://postgres@127.0.0.1:5432,
superuser: it creates and drops its own pgmodelnames_bench_* databases, runs
CHECKPOINT and server-side COPY), pgbench and psycopg, and pgmodelnames
installed in the same Python environment (or --pgmodelnames PATH).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psycopg

import bigdb
import config
import db
import variants
import workloads
from report import Results, log

SERVER_SETTINGS = ("server_version", "shared_buffers", "work_mem", "max_wal_size", "synchronous_commit",
                   "max_parallel_workers_per_gather", "wal_compression")


def main(argv: list[str] | None = None) -> int:
    cfg = config.parse(argv, __doc__, tuple(workloads.NAMES), tuple(variants.VARIANTS), variants.DEFAULT)
    with db.connect(cfg, "postgres") as c:
        server = {k: c.execute(f"SHOW {k}").fetchone()[0] for k in SERVER_SETTINGS}
    log(f"pgmodelnames bench: nproc {os.cpu_count()}, load average {os.getloadavg()}, PostgreSQL {server}, "
        f"rounds {cfg.rounds}, workloads {list(cfg.workloads)}, variants {sorted(cfg.variants)}")
    started = time.perf_counter()
    results = Results()
    made: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="pgmodelnames_bench_"))
    try:
        on_variants = [w for w in workloads.ON_VARIANTS if w in cfg.workloads]
        if on_variants:
            built = variants.build_all(cfg, {need for w in on_variants for need in workloads.NEEDS[w]})
            made += built
            for w in on_variants:
                workloads.ON_VARIANTS[w](cfg, results, tmp)
            if not cfg.keep:   # before the big database needs the disk
                for name in built:
                    db.drop_db(cfg, name)
        on_big = [w for w in workloads.ON_BIG_DATABASE if w in cfg.workloads]
        if on_big:
            made += bigdb.prepare(cfg)
            for w in on_big:
                workloads.ON_BIG_DATABASE[w](cfg, results, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if not cfg.keep:
            for name in made:
                try:
                    db.drop_db(cfg, name)
                except psycopg.Error as exc:
                    log(f"could not drop {name}: {exc}")
    log(f"\ndone in {time.perf_counter() - started:.0f} s, load average {os.getloadavg()}")
    if cfg.json:
        results.write(cfg.json, server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
