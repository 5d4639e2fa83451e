"""Apply, roll back and remove the migrations through Alembic's command API.

Alembic only: connecting and reading the installed state live in db.py,
which migrations/env.py uses too. Never prints: the SQL of --sql goes to the
`output` stream the caller gives.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TextIO

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from pgmodelnames import db, sqlfiles
from pgmodelnames.config import Settings, resource_dir
from pgmodelnames.errors import NOT_READY, USAGE, UserError

HEAD = "head"


@dataclass(frozen=True)
class Migrated:
    before: str | None
    after: str | None
    # objects found changed outside pgmodelnames and put back (an upgrade at head): drift.describe() dicts
    restored: tuple[dict, ...] = ()
    # placeholders the history pass created after the install (None: it was not due)
    history_created: int | None = None
    # the one-line error that stopped the history pass (the install itself is complete)
    history_error: str | None = None
    # names the install filled in llm_models, and where placeholders come from (trigger or sweep)
    names_filled: int | None = None
    placeholder_mode: str | None = None


def _config(settings: Settings, command_name: str, output: TextIO | None,
            lock_wait: float | None = None, lock_attempts: int | None = None) -> Config:
    cfg = Config(output_buffer=output if output is not None else io.StringIO())
    cfg.set_main_option("script_location", str(resource_dir("migrations")))
    cfg.attributes.update(conninfo=settings.conninfo, app_schema=settings.schema, command=command_name,
                          lock_wait=lock_wait, lock_attempts=lock_attempts)
    return cfg


def _script_directory() -> ScriptDirectory:
    cfg = Config()
    cfg.set_main_option("script_location", str(resource_dir("migrations")))
    return ScriptDirectory.from_config(cfg)


def head_revision() -> str:
    return _script_directory().get_current_head()


def check_revision(revision: str) -> str:
    """A revision the user typed (head, base, 0002, head:base...), or a usage error."""
    known = {script.revision for script in _script_directory().walk_revisions()}
    parts = revision.split(":") if revision.count(":") == 1 else [revision]
    for part in parts:
        if part not in known and part not in ("head", "base", "heads"):
            choices = ", ".join(sorted(known))
            raise UserError(f"unknown revision {part[:40]!r}: use head, base or one of {choices}", USAGE)
    return revision


def _alembic(run, settings: Settings) -> None:
    with db.database_errors():
        try:
            run()
        except CommandError as exc:
            raise UserError(f"alembic: {' '.join(str(exc).split())}", USAGE) from None


def upgrade(settings: Settings, revision: str = HEAD, sql: bool = False,
            output: TextIO | None = None, lock_wait: float | None = None,
            placeholder_mode: str | None = None, lock_attempts: int | None = None) -> Migrated:
    """Apply migrations; returns the revisions before and after, read under the migration lock.
    placeholder_mode (trigger/sweep) is only checked here (the preflight refuses trigger mode
    on a Citus distributed messages table); set_placeholder_mode() switches it afterwards."""
    cfg = _config(settings, "upgrade", output, lock_wait, lock_attempts)
    cfg.attributes["placeholder_mode"] = placeholder_mode or ""
    _alembic(lambda: command.upgrade(cfg, check_revision(revision), sql=sql), settings)
    return _migrated(cfg)


def _migrated(cfg: Config) -> Migrated:
    a = cfg.attributes
    return Migrated(a.get("revision_before"), a.get("revision_after"), tuple(a.get("restored") or ()),
                    a.get("history_created"), a.get("history_error"), a.get("names_filled"),
                    a.get("placeholder_mode"))


def set_providers(settings: Settings, providers: list[str], sql: bool = False,
                  output: TextIO | None = None) -> int | None:
    """Change the covered providers (the trigger's WHEN clause), then give placeholders to their
    history in a transaction of its own; returns the placeholders created."""
    statement = sqlfiles.render("set_providers.sql", providers=", ".join(_literal(p) for p in providers))
    history = sqlfiles.render("install/history.sql")
    if sql:
        output.write(sqlfiles.render("printed_transaction.sql", body=statement.rstrip()) + "\n" + history)
        return None
    with db.session(settings) as conn:
        with db.transaction(conn):
            if not db.has_function(conn, "set_covered_providers(text[])"):
                raise UserError("--providers needs pgmodelnames installed (pgmodelnames upgrade first)", NOT_READY)
            conn.execute(statement)
        return _run_history(conn)


def _run_history(conn) -> int | None:
    with db.transaction(conn):
        conn.execute("SET LOCAL statement_timeout = 0")
        return conn.execute("SELECT pgmodelnames.history_pass_if_due()").fetchone()[0]


@dataclass(frozen=True)
class ModeSwitched:
    before: str
    after: str
    created: int


def set_placeholder_mode(settings: Settings, mode: str, sql: bool = False,
                         output: TextIO | None = None) -> ModeSwitched | None:
    """Switch where placeholders come from (trigger or sweep), then give placeholders to the
    stored messages in a transaction of its own (history pass, or the first full sweep)."""
    switch = sqlfiles.render("set_placeholder_mode.sql", mode=_literal(mode))
    history = sqlfiles.render("install/history.sql")
    if sql:
        output.write(sqlfiles.render("printed_transaction.sql", body=switch.rstrip()) + "\n" + history)
        return None
    with db.session(settings) as conn:
        with db.transaction(conn):
            if not db.has_function(conn, "set_placeholder_mode(text)"):
                raise UserError("--placeholders needs pgmodelnames installed (pgmodelnames upgrade first)",
                                NOT_READY)
            before = conn.execute(switch).fetchone()[0]
        created = _run_history(conn)
    return ModeSwitched(before, mode, created or 0)


def downgrade(settings: Settings, revision: str, sql: bool = False,
              output: TextIO | None = None, lock_wait: float | None = None,
              lock_attempts: int | None = None) -> Migrated:
    """Roll back; returns the revisions before and after. Never deletes rows."""
    cfg = _config(settings, "downgrade", output, lock_wait, lock_attempts)
    revision = check_revision(revision)
    if sql and ":" not in revision:
        # Offline mode cannot read the installed revision: script from head.
        revision = f"{HEAD}:{revision}"
    _alembic(lambda: command.downgrade(cfg, revision, sql=sql), settings)
    return _migrated(cfg)


@dataclass(frozen=True)
class Uninstalled:
    installed: bool
    machine_named_models: int = 0


def uninstall(settings: Settings, sql: bool = False, output: TextIO | None = None,
              lock_wait: float | None = None, lock_attempts: int | None = None) -> Uninstalled:
    """Downgrade to base, then remove every object pgmodelnames ever creates,
    found by name (also when its bookkeeping is gone). App rows stay."""
    if sql:
        downgrade(settings, f"{HEAD}:base", sql=True, output=output, lock_attempts=lock_attempts)
        output.write(sqlfiles.render("printed_transaction.sql", body=_remove_leftovers(settings.schema or "public")))
        return Uninstalled(installed=True)
    with db.session(settings) as conn:
        with db.transaction(conn):
            schema = db.app_schema(conn, settings)
            leftovers = conn.execute(sqlfiles.render("diagnostics/leftovers.sql", schema)).fetchone()[0]
            if not leftovers:
                return Uninstalled(installed=False)
            machine_named = 0
            if conn.execute("SELECT to_regclass('pgmodelnames.machine_names')").fetchone()[0] is not None:
                machine_named = conn.execute(sqlfiles.render("uninstall_machine_named.sql", schema)).fetchone()[0]
            revision = db.installed_revision(conn)
    if revision is not None:
        downgrade(settings, "base", lock_wait=lock_wait, lock_attempts=lock_attempts)
    with db.session(settings) as conn, db.transaction(conn):
        conn.execute("SELECT set_config('pgmodelnames.lock_attempts', %s, true)", [str(lock_attempts or 100)])
        conn.execute(_remove_leftovers(schema))
    return Uninstalled(installed=True, machine_named_models=machine_named)


def _remove_leftovers(schema: str) -> str:
    """uninstall's last step, after the same lock step as a removal."""
    return "\n".join(sqlfiles.render(name, schema).rstrip()
                     for name in ("install/remove_plan.sql", "install/lock.sql", "uninstall.sql"))


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
