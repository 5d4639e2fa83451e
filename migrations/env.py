"""Alembic environment for pgmodelnames.

The package keeps its own version table (pgmodelnames.alembic_version), so an
app's own Alembic history is never touched.

A whole run is ONE chain of transactions on one connection: BEGIN, the
migration lock, the preflight, each revision followed by COMMIT AND CHAIN,
and a final COMMIT. A chained commit keeps the server connection, so a
transaction-mode pooler (PgBouncer, Supabase's port 6543) never hands the
connection to another client in the middle of a run, and every setting is
SET LOCAL. The migration lock is a session-level advisory lock held across
the chain (no transaction-level lock survives a COMMIT AND CHAIN): it is
taken with a bounded wait and released before the final COMMIT, behind a
transaction-level lock on the same key, so it never outlives the run; if the
client dies mid-run, the server connection is in a transaction and the
pooler closes it, which releases the lock.

Every revision's SQL is idempotent (it converges from any partial state), so
the printed --sql script applies cleanly to any state the online upgrade
accepts, including a reinstall after `downgrade base` or a public-only
restore.
"""

from __future__ import annotations

import io

import psycopg
from alembic import context
from sqlalchemy import create_engine, pool

from pgmodelnames import config as pmconfig
from pgmodelnames import db
from pgmodelnames.errors import LOCK_TIMEOUT, NOT_READY, USAGE, UserError
from pgmodelnames.sqlfiles import render

VERSION_SCHEMA = "pgmodelnames"
# Any fixed 64-bit number; it names "a pgmodelnames migration is running".
ADVISORY_LOCK_KEY = 7_236_518_204_411_093
DEFAULT_LOCK_WAIT = 60.0
alembic_config = context.config


def _x_argument(name: str) -> str | None:
    return context.get_x_argument(as_dictionary=True).get(name)


def _requested_schema() -> str | None:
    return alembic_config.attributes.get("app_schema") or _x_argument("schema") or pmconfig.app_schema(None)


def _command() -> str | None:
    command = alembic_config.attributes.get("command")
    if command is None and alembic_config.cmd_opts is not None:
        command = alembic_config.cmd_opts.cmd[0].__name__
    return command


def _placeholder_mode() -> str:
    """The mode `upgrade --placeholders` asks for, checked by the preflight ('' = as installed)."""
    mode = alembic_config.attributes.get("placeholder_mode") or _x_argument("placeholders") or ""
    if mode not in ("", "trigger", "sweep"):
        raise UserError(f"unknown placeholder mode {mode[:20]!r}: use trigger or sweep", USAGE)
    return mode


def _lock_wait() -> float:
    raw = alembic_config.attributes.get("lock_wait") or _x_argument("lock_wait") or DEFAULT_LOCK_WAIT
    try:
        seconds = float(raw)
    except ValueError:
        raise UserError(f"lock_wait must be a number of seconds, not {str(raw)[:20]!r}", USAGE) from None
    return seconds


def _conninfo() -> str | None:
    """The CLI passes its resolved conninfo; plain `alembic` resolves the URL here, once."""
    if alembic_config.attributes.get("conninfo"):
        return alembic_config.attributes["conninfo"]
    url = pmconfig.database_url(alembic_config.get_main_option("sqlalchemy.url") or None)
    return pmconfig.to_conninfo(url)[0] if url else None


def _configure(**kwargs) -> None:
    context.configure(
        version_table_schema=VERSION_SCHEMA,
        transaction_per_migration=False,
        on_version_apply=_after_revision,
        **kwargs,
    )


def _after_revision(ctx, step, heads, run_args) -> None:
    """Each revision commits on its own, without leaving the chain."""
    if ctx.as_sql:
        ctx.impl.static_output("COMMIT AND CHAIN;\n")
    else:
        ctx.connection.connection.driver_connection.execute("COMMIT AND CHAIN")


class _OfflineOutput(io.TextIOBase):
    """Alembic's offline output, made re-runnable: the version table is
    created only if missing, and a script that starts from base records its
    own progress from scratch (every revision it replays is idempotent)."""

    def __init__(self, target) -> None:
        self.target = target

    def write(self, text: str) -> int:
        marker = f"CREATE TABLE {VERSION_SCHEMA}.alembic_version"
        if marker in text:
            text = text.replace(marker, f"CREATE TABLE IF NOT EXISTS {VERSION_SCHEMA}.alembic_version")
            text = text.rstrip("\n") + f"\n\nDELETE FROM {VERSION_SCHEMA}.alembic_version;\n"
        return self.target.write(text)

    def flush(self) -> None:
        self.target.flush()


def run_migrations_offline() -> None:
    schema = pmconfig.validate_schema(_requested_schema() or "public")
    alembic_config.attributes["app_schema"] = schema
    output = _OfflineOutput(alembic_config.output_buffer)
    _configure(url="postgresql+psycopg://", literal_binds=True, dialect_name="postgresql",
               output_buffer=output)
    write = context.get_context().impl.static_output
    write(render("offline_header.sql", schema, lock_key=str(ADVISORY_LOCK_KEY)))
    if _command() == "upgrade":
        write(render("preflight/schema.sql", schema))
        write(render("preflight/install.sql", schema, placeholder_mode=_placeholder_mode()))
    write(f"CREATE SCHEMA IF NOT EXISTS {VERSION_SCHEMA};\n")
    context.run_migrations()
    write(render("offline_footer.sql", schema, lock_key=str(ADVISORY_LOCK_KEY)))


def _lock_holder(raw: psycopg.Connection) -> str:
    raw.rollback()
    row = raw.execute(render("migration_lock_holder.sql"), {"key": ADVISORY_LOCK_KEY}).fetchone()
    raw.rollback()
    if row is None:
        return "another session"
    pid, application_name, since, state = row
    return (f"session pid {pid} ({application_name or 'no application_name'}, {state or 'state hidden'}, "
            f"since {since or 'unknown'})")


def run_migrations_online() -> None:
    conninfo = _conninfo()
    if conninfo is None:
        raise UserError(
            "no database URL: pass --database-url, set DATABASE_URL, or set sqlalchemy.url in alembic.ini",
            USAGE,
        )
    lock_wait = _lock_wait()
    engine = create_engine("postgresql+psycopg://", poolclass=pool.NullPool,
                           creator=lambda: psycopg.connect(conninfo, **db.connection_options()))
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        connection.begin()
        raw.execute("SELECT set_config('lock_timeout', %s, true)", [f"{int(lock_wait * 1000)}ms"])
        try:
            raw.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        except psycopg.errors.LockNotAvailable:
            holder = _lock_holder(raw)
            raise UserError(f"another pgmodelnames migration holds the migration lock ({holder}); "
                            f"waited {lock_wait:g} s: retry later", LOCK_TIMEOUT) from None
        try:
            raw.execute("SELECT set_config('lock_timeout', '5s', true)")
            requested = _requested_schema()
            installed = db.installed_value(raw, "installation", "app_schema")
            if requested and installed and requested != installed:
                raise UserError(f"pgmodelnames is installed for schema {installed!r}, not {requested!r}",
                                NOT_READY)
            schema = pmconfig.validate_schema(requested or installed or "public")
            alembic_config.attributes["app_schema"] = schema
            if _command() == "upgrade":
                raw.execute(render("preflight/schema.sql", schema))
                raw.execute(render("preflight/install.sql", schema, placeholder_mode=_placeholder_mode()))
            elif db.installed_revision(raw) is None and _command() == "downgrade":
                # Nothing installed: a downgrade has nothing to do and creates nothing.
                alembic_config.attributes["revision_before"] = None
                alembic_config.attributes["revision_after"] = None
                return
            raw.execute(f"CREATE SCHEMA IF NOT EXISTS {VERSION_SCHEMA}")
            # Read under the lock, so each replica reports what it really did.
            alembic_config.attributes["revision_before"] = db.installed_revision(raw)
            _configure(connection=connection)
            context.run_migrations()
            alembic_config.attributes["revision_after"] = db.installed_revision(raw)
            # Others wait on the transaction-level lock until this commit is visible.
            raw.execute("SELECT pg_advisory_xact_lock(%s), pg_advisory_unlock(%s)",
                        [ADVISORY_LOCK_KEY, ADVISORY_LOCK_KEY])
            raw.commit()
        finally:
            if not raw.closed and raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                # Keep the server connection (a pooler would hand it on after a
                # plain ROLLBACK) until the session lock is gone.
                raw.execute("ROLLBACK AND CHAIN")
                raw.execute("SELECT pg_advisory_unlock_all()")
                raw.rollback()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
