"""Workload 4: pgmodelnames upgrade on the big database while pgbench inserts.

Per round, on a fresh copy: pgbench alone for the window, then pgbench for
the same window with the upgrade started after 2 s; the figure is how long
the app's inserts waited, against the same copy without an upgrade."""

from __future__ import annotations

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


def run(cfg: Config, results: Results, tmp: Path) -> None:
    log(f"\n== workload 4: pgmodelnames upgrade on {cfg.big_rows:,} messages while pgbench (1 client, "
        "synchronous_commit on) inserts ==")
    res: dict[str, list] = {k: [] for k in ("alone_max", "during_max", "upgrade_s", "during_p99", "alone_p99",
                                            "placeholders", "tps_alone", "tps_during")}
    for rnd in range(cfg.rounds):
        dbname = bigdb.fresh_copy(cfg)
        with db.connect(cfg, dbname) as c:
            c.execute("SELECT count(*) FROM public.messages")   # warm the cache like a live database

        tps, lat = pgbench_window(cfg, dbname, tmp / f"up_{rnd}_alone")
        lats = [ms for _, ms in lat]
        res["alone_max"].append(max(lats))
        res["alone_p99"].append(p99(lats))
        res["tps_alone"].append(tps)

        upgrade: dict[str, float] = {}

        def timed_upgrade() -> None:
            upgrade["start"], t0 = time.time(), time.perf_counter()
            db.upgrade(cfg, dbname)
            upgrade["seconds"], upgrade["end"] = time.perf_counter() - t0, time.time()

        tps, lat = pgbench_window(cfg, dbname, tmp / f"up_{rnd}_during", during=timed_upgrade)
        # the transactions that overlapped the upgrade (ended after it began)
        overlapping = [ms for end, ms in lat if upgrade["start"] <= end <= upgrade["end"] + 1.0] or [0.0]
        res["upgrade_s"].append(upgrade["seconds"])
        res["during_max"].append(max(overlapping))
        res["during_p99"].append(p99(overlapping))
        res["tps_during"].append(tps)
        if upgrade["seconds"] + 3 > cfg.upgrade_window:
            log(f"   note: the upgrade took {upgrade['seconds']:.1f} s, longer than the pgbench window "
                f"({cfg.upgrade_window} s)")

        with db.connect(cfg, dbname) as c:
            res["placeholders"].append(c.execute(
                "SELECT count(*) FROM pgmodelnames.machine_names WHERE source = 'placeholder'").fetchone()[0])
            orphans = c.execute(db.sql_file("orphans_left.sql")).fetchone()[0]
        log(f"   round {rnd + 1}: upgrade {res['upgrade_s'][-1]:.2f} s, longest insert during it "
            f"{res['during_max'][-1]:.1f} ms (p99 {res['during_p99'][-1]:.1f} ms), longest insert without upgrade "
            f"{res['alone_max'][-1]:.1f} ms, placeholders {res['placeholders'][-1]}, orphans left {orphans}")
    rs = ratios(res["during_max"], res["alone_max"])
    log(f"-- upgrade seconds {fmt(res['upgrade_s'])} median {median(res['upgrade_s']):.2f}")
    log(f"-- longest insert wait during upgrade, ms {fmt(res['during_max'], 1)} median {median(res['during_max']):.1f} "
        f"(target <= 200 ms)")
    log(f"-- longest insert without upgrade, ms {fmt(res['alone_max'], 1)} median {median(res['alone_max']):.1f}; "
        f"ratio {fmt(rs)} median {median(rs):.2f}")
    log(f"-- insert TPS alone {fmt(res['tps_alone'], 0)}, during {fmt(res['tps_during'], 0)}")
    results.record("upgrade", "upgrade", **res, ratios=rs)
    # the last upgraded copy stays for analytics and doctor
