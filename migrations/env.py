"""Alembic environment for pgmodelnames.

The package keeps its own version table (pgmodelnames.alembic_version), so an
app's own Alembic history is never touched.

An upgrade or a downgrade is ONE transaction: the migration lock (a
transaction-level advisory lock: it cannot outlive the transaction, also
behind a transaction-mode pooler), the preflight, the revisions, the new
version, COMMIT. A failure anywhere rolls all of it back: the database is
as it was. Every statement runs with search_path = pg_catalog, pg_temp and
every setting is SET LOCAL.

After an upgrade's commit, a second short transaction runs the history pass
(placeholders for messages stored before the trigger), so that no app insert
waits for its scan of messages.

Revisions 0001-0005 (pgmodelnames 0.1) were folded into the baseline 0006: a
database that records one of them is upgraded by the baseline's install
(which converges from them) and downgraded by its removal (which finds every
object by name). At head, `upgrade` compares the catalog with what was
installed (sql/diagnostics/drift.sql) and, where something was changed
outside pgmodelnames, runs the head revision's install again: a repair.

The printed (--sql) script is the same transaction, written out: it runs
unchanged under psql -f, psql -1 -f, psql -c (one simple query) and the
Supabase CLI.
"""

from __future__ import annotations

import io
import re

import psycopg
from alembic import context
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import create_engine, pool

from pgmodelnames import config as pmconfig
from pgmodelnames import db, drift
from pgmodelnames.errors import LOCK_TIMEOUT, NOT_READY, USAGE, UserError, from_database_error
from pgmodelnames.sqlfiles import render

VERSION_SCHEMA = "pgmodelnames"
# Any fixed 64-bit number; it names "a pgmodelnames migration is running".
ADVISORY_LOCK_KEY = 7_236_518_204_411_093
DEFAULT_LOCK_WAIT = 60.0
# Revisions of pgmodelnames 0.1, folded into the baseline.
LEGACY_REVISIONS = ("0001", "0002", "0003", "0004", "0005")
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


def _lock_attempts() -> int:
    raw = alembic_config.attributes.get("lock_attempts") or _x_argument("lock_attempts") or 100
    try:
        return int(raw)
    except ValueError:
        raise UserError(f"lock_attempts must be a whole number, not {str(raw)[:20]!r}", USAGE) from None


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


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config)


def _destination() -> str | None:
    """The revision this command ends at ('base': none), for the revisions'
    own steps (pgmodelnames.sqlfiles.migration_destination); None for a
    relative step Alembic resolves itself."""
    argument = context.get_revision_argument()
    if argument in ("head", "heads"):
        return _script().get_current_head()
    if argument in ("base", None):
        return "base" if argument == "base" or _command() == "downgrade" else _script().get_current_head()
    try:
        found = _script().get_revision(argument)
    except CommandError:
        return None
    return found.revision if found is not None else None


def _known_revisions() -> str:
    return ",".join([*LEGACY_REVISIONS, *(s.revision for s in _script().walk_revisions())])


def _preflight(schema: str) -> list[str]:
    return [render("preflight/schema.sql", schema),
            render("preflight/install.sql", schema, placeholder_mode=_placeholder_mode(),
                   known_revisions=_known_revisions())]


def _configure(**kwargs) -> None:
    context.configure(version_table_schema=VERSION_SCHEMA, transaction_per_migration=False, **kwargs)


class _OfflineOutput(io.TextIOBase):
    """Alembic's offline output, made to apply to any state: the version table
    is created only if missing, and the new version replaces whatever was
    recorded in one statement at the end of the transaction (never a
    backward step in between)."""

    _INSERT = re.compile(rf"INSERT INTO {VERSION_SCHEMA}\.alembic_version \(version_num\) "
                         r"VALUES \('([0-9a-z_]+)'\)[^;]*;")
    _UPDATE = re.compile(rf"UPDATE {VERSION_SCHEMA}\.alembic_version SET version_num='([0-9a-z_]+)' [^;]*;")
    _DELETE = re.compile(rf"DELETE FROM {VERSION_SCHEMA}\.alembic_version WHERE [^;]*;")

    def __init__(self, target) -> None:
        self.target = target
        self.version: str | None = None

    def write_version(self) -> None:
        """The new version replacing whatever was recorded, in one statement pair at the end
        (past write(), which would take it out again)."""
        if self.version is not None:
            self.target.write(f"DELETE FROM {VERSION_SCHEMA}.alembic_version WHERE version_num <> '{self.version}';\n"
                              f"INSERT INTO {VERSION_SCHEMA}.alembic_version (version_num) VALUES ('{self.version}') "
                              "ON CONFLICT DO NOTHING;\n")

    def write(self, text: str) -> int:
        text = text.replace(f"CREATE TABLE {VERSION_SCHEMA}.alembic_version",
                            f"CREATE TABLE IF NOT EXISTS {VERSION_SCHEMA}.alembic_version")
        # Alembic's own one-row version table, as Alembic defines it.
        text = text.replace("    version_num VARCHAR(32) NOT NULL",
                            "    -- squawk-ignore prefer-text-field\n    version_num VARCHAR(32) NOT NULL")
        if _command() == "upgrade":
            # Each step's version write goes; the last one is written once,
            # at the end (write_version()): every revision's plan then
            # reads the revision the database really had.
            for pattern in (self._INSERT, self._UPDATE):
                for found in pattern.finditer(text):
                    self.version = found.group(1)
                text = pattern.sub("", text)
        if _command() == "downgrade" and context.get_revision_argument() in ("base", None):
            text = self._DELETE.sub(f"DELETE FROM {VERSION_SCHEMA}.alembic_version;", text)
        return self.target.write(text)

    def flush(self) -> None:
        self.target.flush()


def run_migrations_offline() -> None:
    schema = pmconfig.validate_schema(_requested_schema() or "public")
    alembic_config.attributes["app_schema"] = schema
    output = _OfflineOutput(alembic_config.output_buffer)
    _configure(url="postgresql+psycopg://", literal_binds=True, dialect_name="postgresql", output_buffer=output)
    write = context.get_context().impl.static_output
    label = _script().get_current_head() if _command() == "upgrade" else f"removal to {context.get_revision_argument()}"
    write(render("offline_header.sql", schema, lock_key=str(ADVISORY_LOCK_KEY), revision=label,
                 lock_attempts=str(_lock_attempts())))
    if _command() == "upgrade":
        for statement in _preflight(schema):
            write(statement)
    write(f"CREATE SCHEMA IF NOT EXISTS {VERSION_SCHEMA};\n")
    alembic_config.attributes["destination"] = _destination()
    context.run_migrations()
    output.write_version()
    write(render("offline_footer.sql" if _command() == "upgrade" else "offline_footer_remove.sql", schema))


def _lock_holder(raw: psycopg.Connection) -> str:
    raw.rollback()
    row = raw.execute(render("migration_lock_holder.sql"), {"key": ADVISORY_LOCK_KEY}).fetchone()
    raw.rollback()
    if row is None:
        return "another session"
    pid, application_name, since, state = row
    return (f"session pid {pid} ({application_name or 'no application_name'}, {state or 'state hidden'}, "
            f"since {since or 'unknown'})")


def _begin(raw: psycopg.Connection, lock_wait: float) -> None:
    """The settings of every pgmodelnames transaction, then the migration lock."""
    raw.execute("SET LOCAL search_path = pg_catalog, pg_temp")
    raw.execute("SET LOCAL statement_timeout = '5min'")
    raw.execute("SELECT set_config('lock_timeout', %s, true)", [f"{max(1, int(lock_wait * 1000))}ms"])
    try:
        raw.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
    except psycopg.errors.LockNotAvailable:
        holder = _lock_holder(raw)
        raise UserError(f"another pgmodelnames migration holds the migration lock ({holder}); "
                        f"waited {lock_wait:g} s: retry later", LOCK_TIMEOUT) from None
    raw.execute("SELECT set_config('lock_timeout', '5s', true)")
    # Inside the transaction: a pooler that drops connection options
    # (Supavisor) cannot lose it.
    raw.execute("SELECT set_config('pgmodelnames.lock_attempts', %s, true)", [str(_lock_attempts())])


def _repair(raw: psycopg.Connection, schema: str) -> list[dict]:
    """At head: what differs from what was installed, after the head install ran again."""
    changed = drift.read(raw, schema)
    if not changed:
        return []
    head = _script().get_revision(_script().get_current_head())
    with Operations.context(context.get_context()):
        head.module.upgrade()
    return changed


def run_migrations_online() -> None:
    conninfo = _conninfo()
    if conninfo is None:
        raise UserError("no database URL: set DATABASE_URL or sqlalchemy.url in alembic.ini "
                        "(or run pgmodelnames upgrade --database-url URL)", USAGE)
    lock_wait = _lock_wait()
    command = _command()
    attributes = alembic_config.attributes
    engine = create_engine("postgresql+psycopg://", poolclass=pool.NullPool,
                           creator=lambda: psycopg.connect(conninfo, **db.connection_options()))
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        connection.begin()
        try:
            _begin(raw, lock_wait)
            requested = _requested_schema()
            installed_for = db.installed_value(raw, "installation", "app_schema")
            if requested and installed_for and requested != installed_for:
                raise UserError(f"pgmodelnames is installed for schema {installed_for!r}, not {requested!r}",
                                NOT_READY)
            schema = pmconfig.validate_schema(requested or installed_for or "public")
            attributes["app_schema"] = schema
            before = db.installed_revision(raw)
            attributes["revision_before"] = before
            if command == "upgrade":
                for statement in _preflight(schema):
                    raw.execute(statement)
            elif before is None and command == "downgrade":
                # Nothing installed: a downgrade has nothing to do and creates nothing.
                attributes["revision_after"] = None
                return
            raw.execute(f"CREATE SCHEMA IF NOT EXISTS {VERSION_SCHEMA}")
            if before in LEGACY_REVISIONS:
                # Alembic knows only the baseline: an install of 0.1 is base to an
                # upgrade (the install converges from it) and head to a downgrade
                # (the removal finds every object by name). The version moves
                # within this transaction only.
                raw.execute(f"DELETE FROM {VERSION_SCHEMA}.alembic_version")
                if command == "downgrade":
                    raw.execute(f"INSERT INTO {VERSION_SCHEMA}.alembic_version VALUES (%s)",
                                [_script().get_current_head()])
            _configure(connection=connection)
            attributes["destination"] = _destination()
            at_head = before == _script().get_current_head()
            if command == "upgrade" and at_head and context.get_revision_argument() in ("head", "heads", before):
                attributes["restored"] = _repair(raw, schema)
            else:
                context.run_migrations()
            attributes["revision_after"] = db.installed_revision(raw)
            if command == "upgrade" and db.has_function(raw, "history_pass_if_due()"):
                # What this transaction did to the app's rows, to say so: names
                # it filled (the guard records them, stamped with the
                # transaction's now()) and where placeholders come from.
                attributes["names_filled"], attributes["placeholder_mode"] = raw.execute(
                    "SELECT (SELECT count(*) FROM pgmodelnames.machine_names "
                    "         WHERE source = 'guard' AND recorded_at = now()), "
                    "       (SELECT mode FROM pgmodelnames.sweep_state)").fetchone()
            raw.commit()
        except BaseException:
            if not raw.closed:
                raw.rollback()
            raise
        if command == "upgrade":
            attributes["history_created"], attributes["history_error"] = _history_pass(raw)


def _history_pass(raw: psycopg.Connection) -> tuple[int | None, str | None]:
    """The history pass after the install's commit: (placeholders created, or None when none was
    due; the one-line error that stopped it, the install being complete all the same)."""
    try:
        raw.execute("SET LOCAL search_path = pg_catalog, pg_temp")
        raw.execute("SET LOCAL statement_timeout = 0")
        created = raw.execute("SELECT pgmodelnames.history_pass_if_due()").fetchone()[0]
        raw.commit()
        return created, None
    except psycopg.Error as exc:
        raw.rollback()
        return None, str(from_database_error(exc))


def _run() -> None:
    if context.is_offline_mode():
        run_migrations_offline()
    else:
        run_migrations_online()


if alembic_config.attributes.get("command"):
    _run()  # pgmodelnames' own runner maps errors to its exit codes
else:
    # Plain `alembic upgrade head`: one line (Alembic prints "FAILED: ..."), no traceback.
    try:
        _run()
    except UserError as exc:
        raise CommandError(str(exc)) from None
    except psycopg.Error as exc:
        raise CommandError(str(from_database_error(exc))) from None
