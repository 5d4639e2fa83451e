"""Workload 8: the rare path, one single-row INSERT naming a brand-new vllm model.

Per variant and round, on one connection (synchronous_commit off, so that
no fsync hides the trigger): cfg.inserts pairs of single-row INSERTs
(prepared, autocommit), a brand-new model UUID (pgmodelnames creates its
placeholder) alternating with a known model, each timed by the client.
Before them 10 known inserts warm the connection up; the first brand-new
model after them is reported apart ("first": what a pooled connection that
never met a new model pays). Reported: median and p90 latency in ms per
round, the ratio of the round's medians to base's known insert, and the
extra time of a new model over a known one in the same variant.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import db
import variants
from report import Results, fmt, load, log
from rounds import interleave, median, p90

if TYPE_CHECKING:
    from config import Config

# (model_id type, variants): base (no trigger: a new model is just a row),
# pmn (statement-level trigger), row (row-level, forced), pmnfk (row-level
# because of the FOREIGN KEY).
GROUPS = [
    ("uuid", ["base", "pmn", "row", "pmnfk"]),
    ("text", ["base", "pmn", "row"]),
]
NEEDS = {(v, coltype) for coltype, names in GROUPS for v in names}
WARM_UP = 10


def measure_one(cfg: Config, dbname: str) -> dict[str, list[float]]:
    """{"known": [ms, ...], "new": [ms, ...], "first": [ms]} of one connection."""
    db.between_runs(cfg, dbname)
    insert = db.sql_file("placeholder_insert.sql")
    with db.connect(cfg, dbname, options="-c synchronous_commit=off") as c:
        known = [r[0] for r in c.execute(db.sql_file("known_vllm_models.sql"))]

        def timed(model_id: str) -> float:
            t0 = time.perf_counter()
            c.execute(insert, {"content": db.CONTENT, "model_id": model_id}, prepare=True)
            return (time.perf_counter() - t0) * 1000

        for i in range(WARM_UP):
            timed(known[i % len(known)])
        out = {"first": [timed(str(uuid.uuid4()))], "new": [], "known": []}
        for i in range(cfg.inserts):
            out["new"].append(timed(str(uuid.uuid4())))
            out["known"].append(timed(known[i % len(known)]))
    return out


def run(cfg: Config, results: Results, tmp: Path) -> None:
    log(f"\n== workload 8: one single-row INSERT naming a brand-new model, {cfg.inserts} per variant and round "
        "(against a known model, same connection), synchronous_commit off ==")
    for coltype, names in GROUPS:
        names = variants.measured(cfg, names)
        rounds = interleave(cfg.rounds, names,
                            lambda v: measure_one(cfg, variants.db_name(cfg, v, coltype)))
        base_known = [median(r["known"]) for r in rounds["base"]]
        log(f"-- {coltype} model_id: ms per insert, per round; ratio = the round's median / base's known median; "
            f"{load()}")
        for v in names:
            for kind in ("known", "new", "first"):
                medians = [median(r[kind]) for r in rounds[v]]
                p90s = [p90(r[kind]) for r in rounds[v]] if kind != "first" else None
                rs = [m / b for m, b in zip(medians, base_known)]
                extra = [median(r[kind]) - median(r["known"]) for r in rounds[v]]
                log(f"   {v:9s} {kind:5s} median {fmt(medians, 3)} -> {median(medians):.3f} ms"
                    + (f"  p90 {fmt(p90s, 3)} -> {median(p90s):.3f} ms" if p90s else "")
                    + f"  ratio {fmt(rs)} -> {median(rs):.2f}"
                    + (f"  over known {fmt(extra, 3)} -> {median(extra):.3f} ms" if kind != "known" else ""))
                results.record("placeholder", f"{coltype} {v} {kind}", median_ms=medians, p90_ms=p90s,
                               ratios=rs, median=median(rs), over_known_ms=extra,
                               median_of_medians_ms=median(medians),
                               median_of_p90s_ms=median(p90s) if p90s else None)
