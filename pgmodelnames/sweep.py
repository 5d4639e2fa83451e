"""`pgmodelnames sweep`: placeholders without a trigger on messages (sweep mode).

One call of pgmodelnames.sweep() (sql/0005_scale): one transaction, no
session state, so it is safe behind a transaction-mode pooler; sweeps take
turns on a transaction-level advisory lock. backfill runs it before every
pass. --schedule and --unschedule manage the pg_cron jobs that run it inside
the database. Returns data; cli.py prints it.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from pgmodelnames import db
from pgmodelnames.config import Settings
from pgmodelnames.errors import NOT_READY, UserError

SWEEP = "SELECT * FROM pgmodelnames.sweep(full => %s)"


def available(conn: psycopg.Connection) -> bool:
    return db.has_function(conn, "sweep(boolean, interval)")


def sweep_in(conn: psycopg.Connection, full: bool = False) -> dict[str, Any] | None:
    """One sweep, in a transaction of its own; None where pgmodelnames is not installed."""
    with db.transaction(conn):
        if not available(conn):
            return None
        with conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(SWEEP, [full]).fetchone()


def _connect(settings: Settings) -> psycopg.Connection:
    conn = db.connect(settings)
    with db.database_errors(), db.transaction(conn):
        installed = available(conn)
    if not installed:
        conn.close()
        raise UserError("sweep mode needs pgmodelnames installed: run `pgmodelnames upgrade` first", NOT_READY)
    return conn


def run(settings: Settings, full: bool = False) -> dict[str, Any]:
    with _connect(settings) as conn, db.database_errors():
        return sweep_in(conn, full)


def schedule(settings: Settings, every: str, full_every: str | None) -> list[dict[str, Any]]:
    """Schedule the sweep (and the nightly full one, unless full_every is None) with pg_cron."""
    with _connect(settings) as conn, db.database_errors(), db.transaction(conn), \
            conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT * FROM pgmodelnames.schedule_sweep(%s, %s)", [every, full_every]).fetchall()


def unschedule(settings: Settings) -> int:
    with _connect(settings) as conn, db.database_errors(), db.transaction(conn):
        return conn.execute("SELECT pgmodelnames.unschedule_sweep()").fetchone()[0]
