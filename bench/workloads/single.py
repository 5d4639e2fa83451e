"""Workload 1 (+3, the fk variant): single-row INSERTs, pgbench -M prepared, 2 clients."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import db
import pgbench
import variants
from report import Results, log
from rounds import interleave

if TYPE_CHECKING:
    from config import Config

# (synchronous_commit, model_id type, % unknown models, variants); the
# attribution variants only where the trigger's own cost is not hidden by an
# fsync per commit.
GROUPS = [
    ("on", "uuid", 0, ["base", "pmn", "fk", "sweep"]),
    ("on", "text", 0, ["base", "pmn", "oldrx", "sweep"]),
    ("off", "uuid", 0, ["base", "pmn", "nosp", "fk", "floor", "sweep"]),
    ("off", "text", 0, ["base", "pmn", "oldrx", "nosp", "norx", "floor", "oldfloor", "sweep"]),
    ("off", "uuid", 1, ["base", "pmn", "sweep"]),
    ("off", "text", 1, ["base", "pmn", "oldrx", "sweep"]),
]


def run(cfg: Config, results: Results, tmp: Path) -> None:
    log("\n== workload 1 (+3): single-row INSERTs, pgbench -M prepared, 2 clients ==")
    for sync, coltype, unknown_pct, names in GROUPS:
        name = f"sync={sync} {coltype} {'known' if not unknown_pct else f'{unknown_pct}% unknown'}"

        def measure(variant: str) -> float:
            dbname = variants.db_name(cfg, variant, coltype)
            db.between_runs(cfg, dbname)
            return pgbench.tps(pgbench.run(cfg, dbname, f"insert_{coltype}.sql", cfg.duration, sync,
                                           unknown_pct=unknown_pct))

        tps = interleave(cfg.rounds, variants.measured(cfg, names), measure)
        log(f"-- {name}: TPS per round, ratio = variant TPS / base TPS (same round)")
        results.against_baseline("single", name, tps, "base", unit="tps", key="tps", digits=0)
