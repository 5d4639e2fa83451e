"""Alembic environment for pgmodelnames.

The package keeps its own version table (pgmodelnames.alembic_version), so an
app's own Alembic history is never touched. Each revision runs in its own
transaction; upgrades are serialised by an advisory lock, so two app replicas
upgrading at once do not collide; a preflight checks the app schema before
anything changes.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine, pool

from pgmodelnames import config as pmconfig
from pgmodelnames.runner import installed_value
from pgmodelnames.errors import NOT_READY, USAGE, UserError
from pgmodelnames.sqlfiles import render

VERSION_SCHEMA = "pgmodelnames"
# Any fixed 64-bit number; it names "a pgmodelnames migration is running".
ADVISORY_LOCK_KEY = 7_236_518_204_411_093
alembic_config = context.config


def _requested_schema() -> str | None:
    return (
        alembic_config.attributes.get("app_schema")
        or context.get_x_argument(as_dictionary=True).get("schema")
        or pmconfig.app_schema(None)
    )


def _is_upgrade() -> bool:
    command = alembic_config.attributes.get("command")
    if command is None and alembic_config.cmd_opts is not None:
        command = alembic_config.cmd_opts.cmd[0].__name__
    return command == "upgrade"


def _url() -> str | None:
    url = (
        alembic_config.attributes.get("url")
        or os.environ.get("DATABASE_URL")
        or alembic_config.get_main_option("sqlalchemy.url")
    )
    return pmconfig.normalize_url(url) if url else None


def _configure(**kwargs) -> None:
    context.configure(
        version_table_schema=VERSION_SCHEMA,
        transaction_per_migration=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    schema = _requested_schema() or "public"
    pmconfig.validate_schema(schema)
    alembic_config.attributes["app_schema"] = schema
    _configure(url=_url() or "postgresql+psycopg://", literal_binds=True, dialect_name="postgresql")
    output = context.get_context().impl.static_output
    output(f"-- pgmodelnames for app schema {schema}: apply with psql -v ON_ERROR_STOP=1\n")
    output(f"SELECT pg_advisory_lock({ADVISORY_LOCK_KEY});\n")
    output(f"CREATE SCHEMA IF NOT EXISTS {VERSION_SCHEMA};\n")
    if _is_upgrade():
        output(render("preflight.sql", schema))
    with context.begin_transaction():
        context.run_migrations()
    output(f"SELECT pg_advisory_unlock({ADVISORY_LOCK_KEY});\n")


def run_migrations_online() -> None:
    url = _url()
    if url is None:
        raise UserError(
            "no database URL: pass --database-url, set DATABASE_URL, or set sqlalchemy.url in alembic.ini",
            USAGE,
        )
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        # Wait for any other pgmodelnames migration (another replica) to finish;
        # it then finds the version table at head and does nothing.
        raw.execute("SET lock_timeout = 0")
        raw.execute(f"SELECT pg_advisory_lock({ADVISORY_LOCK_KEY})")
        raw.commit()
        try:
            requested = _requested_schema()
            installed = installed_value(raw, "installation", "app_schema")
            if requested and installed and requested != installed:
                raise UserError(
                    f"pgmodelnames is installed for schema {installed!r}, not {requested!r}", NOT_READY
                )
            schema = requested or installed or "public"
            pmconfig.validate_schema(schema)
            alembic_config.attributes["app_schema"] = schema
            if _is_upgrade():
                raw.execute(render("preflight.sql", schema))
            raw.execute(f"CREATE SCHEMA IF NOT EXISTS {VERSION_SCHEMA}")
            raw.commit()
            # Read under the lock, so each replica reports what it really did.
            alembic_config.attributes["revision_before"] = installed_value(raw, "alembic_version", "version_num")
            raw.commit()
            _configure(connection=connection)
            with context.begin_transaction():
                context.run_migrations()
            raw.commit()
            alembic_config.attributes["revision_after"] = installed_value(raw, "alembic_version", "version_num")
            raw.commit()
        finally:
            raw.rollback()
            raw.execute(f"SELECT pg_advisory_unlock({ADVISORY_LOCK_KEY})")
            raw.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
