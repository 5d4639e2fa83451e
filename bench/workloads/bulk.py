"""Workload 2 (+3, the fk variant): bulk INSERT ... SELECT and COPY of cfg.rows rows."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from psycopg import sql

import db
import variants
from report import Results, load, log
from rounds import interleave

if TYPE_CHECKING:
    from config import Config

# (model_id type, % unknown models, variants). pmn is the statement-level
# trigger, row / pmnfk the row-level one (forced / chosen because of the
# FOREIGN KEY); floor and stmtfloor are the two shapes calling empty
# functions. With unknown models: only what creates placeholders (fk would
# refuse the rows, floor and stmtfloor create none). nosp, oldrx, norx and
# oldfloor are attribution variants, measured only when --variants names them.
GROUPS = [
    ("uuid", 0, ["base", "pmn", "row", "fk", "pmnfk", "floor", "stmtfloor", "sweep", "nosp"]),
    ("text", 0, ["base", "pmn", "row", "floor", "stmtfloor", "sweep", "nosp", "oldrx", "norx", "oldfloor"]),
    ("uuid", 1, ["base", "pmn", "row", "pmnfk", "sweep"]),
    ("text", 1, ["base", "pmn", "row", "sweep", "oldrx"]),
]
NEEDS = {(v, coltype) for coltype, _, names in GROUPS for v in names}
COLUMNS = "conversation_id, role, content, latency_ms, model_id, provider"


def rows(cfg: Config, unknown_pct: int) -> int:
    """The 1 % unknown mix creates a new placeholder per unknown row (every
    unknown row is a brand-new model, the worst case): run it at a tenth of
    the size, so it stays within the time budget. The ratio hardly depends
    on the size (1 % of the rows either way), and 100,000 rows keep the
    figures comparable with revisions 0004-0006."""
    return cfg.rows if not unknown_pct else max(1000, cfg.rows // 10)


def write_rows(cfg: Config, path: Path, coltype: str, unknown_pct: int) -> None:
    query = db.sql_file("bulk_rows.sql", rows=rows(cfg, unknown_pct), unknown_pct=unknown_pct,
                        n_models=db.N_MODELS, plain_openai_ids=coltype == "text", content=db.CONTENT)
    with db.connect(cfg, variants.db_name(cfg, "base", coltype)) as c:
        c.execute(sql.SQL("COPY ({}) TO {}").format(query, sql.Literal(str(path))))


def load_source(cfg: Config, dbname: str, path: Path) -> None:
    """bench_src: the same rows as the COPY file, for INSERT ... SELECT."""
    with db.connect(cfg, dbname) as c:
        c.execute("DROP TABLE IF EXISTS public.bench_src")
        c.execute(f"CREATE UNLOGGED TABLE public.bench_src AS SELECT {COLUMNS} FROM public.messages LIMIT 0")
        c.execute(sql.SQL("COPY public.bench_src FROM {}").format(sql.Literal(str(path))))
        c.execute("VACUUM ANALYZE public.bench_src")


def run(cfg: Config, results: Results, tmp: Path) -> None:
    log(f"\n== workload 2 (+3): bulk {cfg.rows:,} rows, INSERT ... SELECT and COPY ==")
    # Both statements insert exactly the same rows, generated beforehand so
    # that no row generation cost dilutes the ratio. The server reads and
    # writes the COPY files itself: a directory it may write to.
    filedir = Path(tempfile.mkdtemp(prefix="pgmodelnames_bench_"))
    os.chmod(filedir, 0o777)
    try:
        files = {}
        for coltype, unknown_pct, _ in GROUPS:
            files[coltype, unknown_pct] = filedir / f"messages_{coltype}_{unknown_pct}.copy"
            write_rows(cfg, files[coltype, unknown_pct], coltype, unknown_pct)
        for coltype, unknown_pct, names in GROUPS:
            path = files[coltype, unknown_pct]
            names = variants.measured(cfg, names)
            for v in names:
                load_source(cfg, variants.db_name(cfg, v, coltype), path)
            statements = {
                "insert-select": f"INSERT INTO public.messages ({COLUMNS}) SELECT {COLUMNS} FROM public.bench_src",
                "copy": sql.SQL(f"COPY public.messages ({COLUMNS}) FROM {{}}").format(sql.Literal(str(path))),
            }
            for op, statement in statements.items():
                name = (f"{op} {coltype} {'known' if not unknown_pct else f'{unknown_pct}% unknown'}"
                        f" ({rows(cfg, unknown_pct):,} rows)")

                def measure(variant: str) -> float:
                    dbname = variants.db_name(cfg, variant, coltype)
                    db.between_runs(cfg, dbname)
                    with db.connect(cfg, dbname) as c:
                        t0 = time.perf_counter()
                        c.execute(statement)
                        return time.perf_counter() - t0

                seconds = interleave(cfg.rounds, names, measure)
                log(f"-- {name}: seconds per round, ratio = variant time / base time (same round); {load()}")
                results.against_baseline("bulk", name, seconds, "base", unit="s", key="seconds", digits=2)
            for v in names:
                with db.connect(cfg, variants.db_name(cfg, v, coltype)) as c:
                    c.execute("DROP TABLE IF EXISTS public.bench_src")
                    c.execute("TRUNCATE public.messages")
    finally:
        shutil.rmtree(filedir, ignore_errors=True)
