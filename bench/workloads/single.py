"""Workload 1 (+3, the fk variant): single-row INSERTs, pgbench -M prepared, 2 clients."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import db
import pgbench
import variants
from report import Results, load, log
from rounds import interleave

if TYPE_CHECKING:
    from config import Config

# (synchronous_commit, model_id type, % unknown models, variants): pmn (the
# statement-level trigger) against row (the row-level one); the references
# and floors only where the trigger's own cost is not hidden by an fsync per
# commit. sweep (no trigger on messages: 1.03x, revision 0005) is no longer
# measured here, for time. nosp, oldrx, norx and oldfloor are attribution
# variants, measured only when --variants names them.
GROUPS = [
    ("on", "uuid", 0, ["base", "pmn", "row"]),
    ("on", "text", 0, ["base", "pmn", "row"]),
    ("off", "uuid", 0, ["base", "pmn", "row", "fk", "pmnfk", "floor", "stmtfloor", "nosp"]),
    ("off", "text", 0, ["base", "pmn", "row", "floor", "stmtfloor", "nosp", "oldrx", "norx", "oldfloor"]),
    ("off", "uuid", 1, ["base", "pmn", "row"]),
    ("off", "text", 1, ["base", "pmn", "row"]),
]
NEEDS = {(v, coltype) for _, coltype, _, names in GROUPS for v in names}


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
        log(f"-- {name}: TPS per round, ratio = variant TPS / base TPS (same round); {load()}")
        results.against_baseline("single", name, tps, "base", unit="tps", key="tps", digits=0)
