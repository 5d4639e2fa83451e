"""Reaching the database: the one place connections are made, errors mapped,
and the installed state read.

Every statement runs inside `transaction()`, which pins search_path to
pg_catalog, pg_temp for that transaction: the app's schemas are never on the
path, so no look-alike function or operator that a role with CREATE there
planted can run with the rights of whoever runs pgmodelnames (often
postgres). Connections are in autocommit mode, so a transaction exists only
where `transaction()` makes one, and their cursors refuse a statement
outside one: a forgotten block fails loudly in the tests instead of running
with the caller's search_path.

Connections are safe behind a transaction-mode pooler (PgBouncer, Supabase's
port 6543): psycopg never prepares statements (prepare_threshold=None), and
every setting and lock lives inside one transaction (SET LOCAL,
set_config(..., true), pg_advisory_xact_lock).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import psycopg
from psycopg import sql
from sqlalchemy import exc as sa_exc

from pgmodelnames import __version__
from pgmodelnames.config import Settings
from pgmodelnames.errors import USAGE, UserError, from_database_error

APPLICATION_NAME = "pgmodelnames"
CONNECT_TIMEOUT = 10


def connection_options() -> dict:
    """Options for every connection, also the one Alembic uses (migrations/env.py)."""
    return {"prepare_threshold": None, "connect_timeout": CONNECT_TIMEOUT,
            "application_name": f"{APPLICATION_NAME} {__version__}"}


@contextmanager
def database_errors() -> Iterator[None]:
    """Turn the errors a user will hit into one-line UserErrors."""
    try:
        yield
    except (sa_exc.DBAPIError, psycopg.Error) as exc:
        raise from_database_error(exc) from None


class PinnedCursor(psycopg.Cursor):
    """A cursor that runs nothing outside a transaction (see transaction())."""

    def execute(self, query, params=None, **kwargs):
        if self.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
            raise RuntimeError("pgmodelnames runs every statement inside db.transaction(): "
                               + " ".join(str(query)[:80].split()))
        return super().execute(query, params, **kwargs)


def connect(settings: Settings) -> psycopg.Connection:
    if not settings.conninfo:
        raise UserError(
            "no database URL: pass --database-url, set DATABASE_URL, or set sqlalchemy.url in ./alembic.ini",
            USAGE,
        )
    with database_errors():
        return psycopg.connect(settings.conninfo, autocommit=True, cursor_factory=PinnedCursor,
                               **connection_options())


@contextmanager
def session(settings: Settings) -> Iterator[psycopg.Connection]:
    """A connection (see connect()), closed at the end, with every expected
    database error turned into a one-line UserError: how commands reach the
    database."""
    with database_errors(), connect(settings) as conn:
        yield conn


def connect_outside_transactions(settings: Settings) -> psycopg.Connection:
    """For the statements that cannot run in a transaction block (CREATE and
    DROP DATABASE, the demo's): they call no function, so search_path does
    not matter to them."""
    with database_errors():
        return psycopg.connect(settings.conninfo, autocommit=True, **connection_options())


@contextmanager
def transaction(conn: psycopg.Connection, read_only: bool = False) -> Iterator[psycopg.Connection]:
    """One transaction whose statements never see the app's schemas on the
    search_path; the setting ends with the transaction. A statement_timeout
    the database or the role sets for the app (Supabase sets short ones) does
    not apply: pgmodelnames' scans of messages are as long as the table is
    large, and they block no insert (pg_dump does the same)."""
    with conn.transaction():
        conn.execute("SET LOCAL search_path = pg_catalog, pg_temp")
        conn.execute("SET LOCAL statement_timeout = 0")
        if read_only:
            conn.execute("SET TRANSACTION READ ONLY")
        yield conn


def installed_value(conn: psycopg.Connection, table: str, column: str) -> str | None:
    """One value from a pgmodelnames table, or None where it does not exist
    (not installed) or this role may not read it."""
    regclass = conn.execute("SELECT to_regclass(%s)", [f"pgmodelnames.{table}"]).fetchone()[0]
    if regclass is None:
        return None
    readable = conn.execute("SELECT has_table_privilege(%s::regclass, 'SELECT')", [regclass]).fetchone()[0]
    if not readable:
        return None
    row = conn.execute(sql.SQL("SELECT {} FROM pgmodelnames.{}").format(
        sql.Identifier(column), sql.Identifier(table))).fetchone()
    return row[0] if row else None


def has_function(conn: psycopg.Connection, signature: str) -> bool:
    """Is pgmodelnames.<signature> installed (which revision a command needs)?"""
    return conn.execute("SELECT to_regprocedure(%s) IS NOT NULL", [f"pgmodelnames.{signature}"]).fetchone()[0]


def installed_revision(conn: psycopg.Connection) -> str | None:
    return installed_value(conn, "alembic_version", "version_num")


def app_schema(conn: psycopg.Connection, settings: Settings) -> str:
    """--schema/PGMODELNAMES_SCHEMA, else the schema pgmodelnames was installed for, else public."""
    return settings.schema or installed_value(conn, "installation", "app_schema") or "public"


def current(settings: Settings) -> str | None:
    """The installed revision, or None when pgmodelnames is not installed."""
    with connect(settings) as conn, database_errors(), transaction(conn):
        return installed_revision(conn)
