"""Connections to the bench server, the bench's own databases, its SQL files
and the pgmodelnames command line."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

if TYPE_CHECKING:
    from config import Config

BENCH_DIR = Path(__file__).resolve().parent
SQL_DIR = BENCH_DIR / "sql"
# The app schema the test suite uses too, so that there is one copy of it.
APP_SCHEMA = BENCH_DIR.parent / "tests" / "fixtures" / "schema_minimal.sql"

N_MODELS = 30          # known models per provider (vllm, openai)
N_ORPHANS = 5000       # vllm model ids without llm_models row in the big database
CONTENT = "Sure! Here is a short answer to your question about PostgreSQL triggers."


def connect(cfg: Config, db: str, **kw) -> psycopg.Connection:
    return psycopg.connect(cfg.url(db), autocommit=True, **kw)


def admin(cfg: Config, statement: str) -> None:
    with connect(cfg, "postgres") as c:
        c.execute(statement)


def exists(cfg: Config, db: str) -> bool:
    with connect(cfg, "postgres") as c:
        return c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone() is not None


def drop_db(cfg: Config, db: str) -> None:
    admin(cfg, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def create_db(cfg: Config, db: str, template: str | None = None) -> None:
    drop_db(cfg, db)
    if template:
        admin(cfg, f'CREATE DATABASE "{db}" TEMPLATE "{template}" STRATEGY FILE_COPY')
    else:
        admin(cfg, f'CREATE DATABASE "{db}"')


def sql_file(name: str, **literals) -> sql.Composable:
    """bench/sql/<name>, its {placeholders} filled with SQL literals.

    Literals, not bind parameters: the files hold several statements, COPY
    and DDL, none of which take parameters."""
    text = (SQL_DIR / name).read_text()
    return sql.SQL(text).format(**{k: sql.Literal(v) for k, v in literals.items()}) if literals else sql.SQL(text)


def run_sql(c: psycopg.Connection, name: str, **literals) -> None:
    c.execute(sql_file(name, **literals))


def create_app_db(cfg: Config, db: str, coltype: str) -> None:
    """The app's tables with the bench's known models; messages.model_id uuid or text."""
    create_db(cfg, db)
    with connect(cfg, db) as c:
        c.execute(APP_SCHEMA.read_text())
        if coltype == "text":
            run_sql(c, "model_id_text.sql")
        run_sql(c, "models.sql", n_models=N_MODELS)


def between_runs(cfg: Config, db: str) -> None:
    """The same starting point for every measured run, with nothing left to flush."""
    with connect(cfg, db) as c:
        run_sql(c, "between_runs.sql")
        c.execute("CHECKPOINT")


def pgmodelnames(cfg: Config, *args: str, db: str) -> subprocess.CompletedProcess:
    return subprocess.run([cfg.pgmodelnames, "--database-url", cfg.url(db), *args],
                          capture_output=True, text=True)


def upgrade(cfg: Config, db: str, *args: str) -> None:
    r = pgmodelnames(cfg, "upgrade", *args, db=db)
    if r.returncode:
        raise SystemExit(f"pgmodelnames upgrade failed on {db}: {r.stderr.strip()}")
