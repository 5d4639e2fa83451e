"""Apply, roll back and remove the migrations through Alembic's command API."""

from __future__ import annotations

import io
import sys
from contextlib import contextmanager
from typing import Iterator, TextIO

import psycopg
from alembic import command
from alembic.config import Config
from sqlalchemy import exc as sa_exc

from pgmodelnames.config import Settings, libpq_url, resource_dir
from pgmodelnames.errors import NOT_READY, USAGE, UserError, from_database_error

HEAD = "head"


def alembic_config(settings: Settings, command_name: str, output: TextIO | None = None) -> Config:
    cfg = Config(output_buffer=output or sys.stdout)
    cfg.set_main_option("script_location", str(resource_dir("migrations")))
    cfg.attributes.update(url=settings.url, app_schema=settings.schema, command=command_name)
    return cfg


@contextmanager
def database_errors() -> Iterator[None]:
    """Turn the errors a user will hit into one-line UserErrors."""
    try:
        yield
    except (sa_exc.DBAPIError, psycopg.Error) as exc:
        raise from_database_error(exc) from None


def connect(settings: Settings, **kwargs) -> psycopg.Connection:
    if not settings.url:
        raise UserError(
            "no database URL: pass --database-url, set DATABASE_URL, or set sqlalchemy.url in ./alembic.ini",
            USAGE,
        )
    with database_errors():
        return psycopg.connect(libpq_url(settings.url), connect_timeout=10, **kwargs)


def installed_value(conn: psycopg.Connection, table: str, column: str) -> str | None:
    """One value from a pgmodelnames table, or None where it does not exist (not installed)."""
    if conn.execute(f"SELECT to_regclass('pgmodelnames.{table}')").fetchone()[0] is None:
        return None
    row = conn.execute(f"SELECT {column} FROM pgmodelnames.{table}").fetchone()
    return row[0] if row else None


def app_schema(conn: psycopg.Connection, settings: Settings) -> str:
    """--schema/PGMODELNAMES_SCHEMA, else the schema pgmodelnames was installed for, else public."""
    return settings.schema or installed_value(conn, "installation", "app_schema") or "public"


def current(settings: Settings) -> str | None:
    """The installed revision, or None when pgmodelnames is not installed."""
    with connect(settings) as conn, database_errors():
        return installed_value(conn, "alembic_version", "version_num")


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(resource_dir("migrations")))
    return ScriptDirectory.from_config(cfg).get_current_head()


def upgrade(settings: Settings, revision: str = HEAD, sql: bool = False,
            providers: list[str] | None = None, output: TextIO | None = None) -> tuple[str | None, str | None]:
    """Apply migrations; returns the revisions (before, after), read under the migration lock."""
    cfg = alembic_config(settings, "upgrade", output)
    with database_errors():
        command.upgrade(cfg, revision, sql=sql)
    if providers is not None:
        statement = "SELECT pgmodelnames.set_covered_providers(ARRAY[{}]::text[]);".format(
            ", ".join(_literal(p) for p in providers)
        )
        if sql:
            (output or sys.stdout).write(statement + "\n")
        else:
            with connect(settings) as conn, database_errors():
                if conn.execute("SELECT to_regprocedure('pgmodelnames.set_covered_providers(text[])')").fetchone()[0] is None:
                    raise UserError("--providers needs the placeholder trigger (upgrade to head first)", NOT_READY)
                conn.execute(statement)
    return cfg.attributes.get("revision_before"), cfg.attributes.get("revision_after")


def downgrade(settings: Settings, revision: str, sql: bool = False,
              output: TextIO | None = None) -> tuple[str | None, str | None]:
    """Roll back; returns the revisions (before, after)."""
    cfg = alembic_config(settings, "downgrade", output)
    if sql and ":" not in revision:
        # Offline mode cannot read the installed revision: script from head.
        revision = f"{HEAD}:{revision}"
    with database_errors():
        command.downgrade(cfg, revision, sql=sql)
    return cfg.attributes.get("revision_before"), cfg.attributes.get("revision_after")


UNINSTALL_SQL = """\
-- Remove what is left of pgmodelnames once every revision is rolled back.
DROP TABLE IF EXISTS pgmodelnames.alembic_version;
DROP SCHEMA IF EXISTS pgmodelnames;
"""


def uninstall(settings: Settings, sql: bool = False, output: TextIO | None = None) -> dict:
    """Downgrade to base and drop the pgmodelnames schema. App rows stay."""
    out = output or sys.stdout
    if sql:
        downgrade(settings, f"{HEAD}:base", sql=True, output=out)
        out.write(UNINSTALL_SQL)
        return {}
    kept = {}
    with connect(settings) as conn, database_errors():
        if conn.execute("SELECT to_regnamespace('pgmodelnames')").fetchone()[0] is None:
            return {"installed": False}
        if conn.execute("SELECT to_regclass('pgmodelnames.machine_names')").fetchone()[0] is not None:
            kept["machine_named_models"] = conn.execute(
                "SELECT count(*) FROM pgmodelnames.machine_names").fetchone()[0]
    if current(settings) is not None:
        downgrade(settings, "base", output=io.StringIO())
    with connect(settings) as conn, database_errors():
        conn.execute(UNINSTALL_SQL)
    kept["installed"] = True
    return kept


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
