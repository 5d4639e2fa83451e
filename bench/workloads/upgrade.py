"""Workload 4: pgmodelnames upgrade on the big database while pgbench inserts,
and the same install as the printed script applied with psql.

Per round, each on a fresh copy, interleaved: pgbench alone for the window,
pgbench for the same window with `pgmodelnames upgrade` started after 2 s,
and pgbench with `psql -f` of the printed script started after 2 s; the
figures are how long the app's inserts waited, against the same copy
without an install."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import bigdb
import db
import pgbench
from report import Results, fmt, log
from rounds import median, p99, ratios

if TYPE_CHECKING:
    from config import Config


def pgbench_window(cfg: Config, dbname: str, logdir: Path, during=None) -> tuple[float, list[tuple[float, float]]]:
    """pgbench for cfg.upgrade_window seconds, calling during() 2 s into it:
    (TPS, per-transaction (end time, latency ms))."""
    logdir.mkdir()
    done: dict = {}

    def bench() -> None:
        try:
            done["r"] = pgbench.run(cfg, dbname, "insert_during_upgrade.sql", cfg.upgrade_window, "on",
                                    clients=1, extra=["-l", "--log-prefix", str(logdir / "pgbench_log")],
                                    timed=True)
        except SystemExit as exc:   # a thread would swallow it
            done["error"] = exc

    th = threading.Thread(target=bench)
    th.start()
    try:
        if during:
            time.sleep(2)
            during()
    finally:
        th.join()
    if "error" in done:
        raise done["error"]
    return pgbench.tps(done["r"]), pgbench.latencies(logdir)


def _printed_script(cfg: Config, dbname: str, path: Path) -> None:
    if not path.exists():
        r = db.pgmodelnames(cfg, "upgrade", "--sql", db=dbname)
        if r.returncode:
            raise SystemExit(f"pgmodelnames upgrade --sql failed: {r.stderr.strip()}")
        path.write_text(r.stdout)
    r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", cfg.url(dbname), "-f", str(path)],
                       capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"the printed script failed on {dbname}: {r.stderr.strip()}")


def _warm_copy(cfg: Config) -> str:
    dbname = bigdb.fresh_copy(cfg)
    with db.connect(cfg, dbname) as c:
        c.execute("SELECT count(*) FROM public.messages")   # warm the cache like a live database
        c.execute("CHECKPOINT")  # the copy's writes are flushed before the window, not during it
    return dbname


class LockWaits:
    """The longest lock wait of any app session during a window, sampled from
    pg_locks.waitstart (PostgreSQL 14+) every 10 ms: the part of an insert's
    latency that a lock held by someone else caused, apart from I/O."""

    def __init__(self, cfg: Config, dbname: str) -> None:
        self.cfg, self.dbname = cfg, dbname
        self.longest_ms = 0.0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with db.connect(self.cfg, self.dbname) as c:
            while not self.stop.is_set():
                waited = c.execute("""
                    SELECT coalesce(max(extract(epoch FROM clock_timestamp() - l.waitstart)) * 1000, 0)
                      FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                     WHERE NOT l.granted AND a.datname = current_database()
                       AND a.application_name = 'pgbench'""").fetchone()[0]
                self.longest_ms = max(self.longest_ms, float(waited))
                time.sleep(0.01)

    def __enter__(self) -> "LockWaits":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()


INSTALLS = {"upgrade": lambda cfg, name, script: db.upgrade(cfg, name),
            "printed": lambda cfg, name, script: _printed_script(cfg, name, script)}


def run(cfg: Config, results: Results, tmp: Path) -> None:
    log(f"\n== workload 4: pgmodelnames upgrade, and its printed script with psql, on {cfg.big_rows:,} messages "
        "while pgbench (1 client, synchronous_commit on) inserts ==")
    res: dict[str, list] = {k: [] for k in ("alone_max", "alone_p99", "tps_alone", "placeholders",
                                            *(f"{how}_{k}" for how in INSTALLS
                                              for k in ("max", "p99", "s", "tps", "lock_wait")))}
    script = tmp / "printed.sql"
    for rnd in range(cfg.rounds):
        dbname = _warm_copy(cfg)
        tps, lat = pgbench_window(cfg, dbname, tmp / f"up_{rnd}_alone")
        lats = [ms for _, ms in lat]
        res["alone_max"].append(max(lats))
        res["alone_p99"].append(p99(lats))
        res["tps_alone"].append(tps)
        line = [f"   round {rnd + 1}: longest insert without an install {res['alone_max'][-1]:.1f} ms"]
        for how, install in INSTALLS.items():
            dbname = _warm_copy(cfg)
            window: dict[str, float] = {}

            def timed(name: str = dbname, install=install) -> None:
                window["start"], t0 = time.time(), time.perf_counter()
                install(cfg, name, script)
                window["seconds"], window["end"] = time.perf_counter() - t0, time.time()

            with LockWaits(cfg, dbname) as waits:
                tps, lat = pgbench_window(cfg, dbname, tmp / f"up_{rnd}_{how}", during=timed)
            res[f"{how}_lock_wait"].append(waits.longest_ms)
            # the transactions that overlapped the install (ended after it began)
            overlapping = [ms for end, ms in lat if window["start"] <= end <= window["end"] + 1.0] or [0.0]
            res[f"{how}_s"].append(window["seconds"])
            res[f"{how}_max"].append(max(overlapping))
            res[f"{how}_p99"].append(p99(overlapping))
            res[f"{how}_tps"].append(tps)
            if window["seconds"] + 3 > cfg.upgrade_window:
                log(f"   note: the install took {window['seconds']:.1f} s, longer than the pgbench window "
                    f"({cfg.upgrade_window} s)")
            with db.connect(cfg, dbname) as c:
                orphans = c.execute(db.sql_file("orphans_left.sql")).fetchone()[0]
                if how == "upgrade":
                    res["placeholders"].append(c.execute(
                        "SELECT count(*) FROM pgmodelnames.machine_names WHERE source = 'placeholder'").fetchone()[0])
            line.append(f"{how} {res[f'{how}_s'][-1]:.2f} s, longest insert {res[f'{how}_max'][-1]:.1f} ms "
                        f"(p99 {res[f'{how}_p99'][-1]:.1f}), longest lock wait {waits.longest_ms:.0f} ms, "
                        f"orphans left {orphans}")
        log("; ".join(line))
    for how in INSTALLS:
        rs = ratios(res[f"{how}_max"], res["alone_max"])
        log(f"-- {how}: seconds {fmt(res[f'{how}_s'])} median {median(res[f'{how}_s']):.2f}; longest lock wait of an "
            f"insert, ms {fmt(res[f'{how}_lock_wait'], 0)} median {median(res[f'{how}_lock_wait']):.0f} "
            f"(target <= 200 ms); longest insert, "
            f"ms {fmt(res[f'{how}_max'], 1)} median {median(res[f'{how}_max']):.1f}; "
            f"ratio to no install {fmt(rs)} median {median(rs):.2f}; TPS {fmt(res[f'{how}_tps'], 0)}")
    log(f"-- longest insert without an install, ms {fmt(res['alone_max'], 1)} median {median(res['alone_max']):.1f}; "
        f"TPS {fmt(res['tps_alone'], 0)}")
    results.record("upgrade", "upgrade", **res)
    # the last installed copy stays for analytics and doctor
