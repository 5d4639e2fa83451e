"""Workload 7: sweep mode on the big database (and a small one, for scale).

On a copy of the big database with an index on messages(created_at), in
sweep mode: a full sweep that creates the 5,000 orphans' placeholders (each
round starts without them), incremental sweeps when nothing is new (on the
10 M table and on a 10,000-row one: the cost must not depend on the size),
and an incremental sweep after one minute's worth of inserts of which 1 %
name a brand-new model. Absolute timings (median of rounds), next to one
count(*) over messages for scale.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import bigdb
import db
from report import Results, fmt, log
from rounds import median

if TYPE_CHECKING:
    from config import Config

MINUTE_ROWS = 60_000    # one minute of inserts at 1,000 messages per second
NEW_PCT = 1
NOTHING_NEW_REPEATS = 20
SMALL_ROWS = 10_000


def _sweep(c, full: bool = False) -> tuple[float, dict]:
    t0 = time.perf_counter()
    row = c.execute("SELECT created, method, held_back FROM pgmodelnames.sweep(full => %s)", [full]).fetchone()
    return time.perf_counter() - t0, {"created": row[0], "method": row[1], "held_back": row[2]}


def _prepare(cfg: Config, dbname: str) -> None:
    with db.connect(cfg, dbname) as c:
        c.execute("CREATE INDEX IF NOT EXISTS bench_messages_created_at ON public.messages (created_at)")
    db.upgrade(cfg, dbname, "--placeholders", "sweep")
    with db.connect(cfg, dbname) as c:
        c.execute("VACUUM ANALYZE public.messages")


def _nothing_new(cfg: Config, dbname: str) -> list[float]:
    with db.connect(cfg, dbname) as c:
        _sweep(c)
        return [_sweep(c)[0] for _ in range(NOTHING_NEW_REPEATS)]


def run(cfg: Config, results: Results, tmp: Path) -> None:
    log(f"\n== workload 7: sweep mode on {cfg.big_rows:,} messages (index on created_at) ==")
    dbname = bigdb.fresh_copy(cfg)
    _prepare(cfg, dbname)
    full, scans, created = [], [], []
    with db.connect(cfg, dbname) as c:
        c.execute("SELECT count(*) FROM public.messages")   # warm, like a live database
        for _ in range(cfg.rounds):
            db.run_sql(c, "sweep_reset.sql")
            c.execute("CHECKPOINT")
            t0 = time.perf_counter()
            c.execute("SELECT count(*) FROM public.messages").fetchone()
            scans.append(time.perf_counter() - t0)
            seconds, out = _sweep(c, full=True)
            full.append(seconds)
            created.append(out["created"])
    log(f"-- full sweep: s {fmt(full)} median {median(full):.2f}, placeholders created {created}; "
        f"one count(*) over messages s {fmt(scans)} median {median(scans):.2f}")
    results.record("sweep", "full sweep", seconds=full, created=created, scan_seconds=scans,
                   median_seconds=median(full))

    big = _nothing_new(cfg, dbname)
    small_db = f"{cfg.prefix}_sweep_small"
    db.create_app_db(cfg, small_db, "uuid")
    try:
        with db.connect(cfg, small_db) as c:
            db.run_sql(c, "big_messages.sql", rows=SMALL_ROWS, n_models=db.N_MODELS, n_orphans=db.N_ORPHANS,
                       content=db.CONTENT)
        _prepare(cfg, small_db)
        small = _nothing_new(cfg, small_db)
    finally:
        if not cfg.keep:
            db.drop_db(cfg, small_db)
    ms = lambda xs: [x * 1000 for x in xs]  # noqa: E731
    log(f"-- incremental sweep, nothing new ({NOTHING_NEW_REPEATS} sweeps): {cfg.big_rows:,} messages ms "
        f"{fmt(ms(big), 1)} median {median(big) * 1000:.1f}; {SMALL_ROWS:,} messages median "
        f"{median(small) * 1000:.1f} ms")
    results.record("sweep", "nothing new", big_seconds=big, small_seconds=small,
                   median_ms_big=median(big) * 1000, median_ms_small=median(small) * 1000)

    minute, made, inserts = [], [], []
    with db.connect(cfg, dbname) as c:
        for _ in range(cfg.rounds):
            _sweep(c)
            t0 = time.perf_counter()
            db.run_sql(c, "sweep_new_minute.sql", rows=MINUTE_ROWS, new_pct=NEW_PCT, n_models=db.N_MODELS,
                       content=db.CONTENT)
            inserts.append(time.perf_counter() - t0)
            seconds, out = _sweep(c)
            minute.append(seconds)
            made.append(out["created"])
    log(f"-- incremental sweep after one minute of inserts ({MINUTE_ROWS:,} rows, {NEW_PCT} % brand-new models): "
        f"s {fmt(minute, 3)} median {median(minute):.3f}, placeholders created {made}; "
        f"the inserts themselves s {fmt(inserts)}")
    results.record("sweep", "one new minute", seconds=minute, created=made, insert_seconds=inserts,
                   median_seconds=median(minute))
