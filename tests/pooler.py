"""A real PgBouncer in front of a test PostgreSQL server, for the tests that
check behaviour through a connection pooler (transaction and session pooling).

Not a test module: test files import the fixture with

    from pooler import pgbouncer  # noqa: F401 (fixture)

and ask it for a pooler: ``pgbouncer("transaction", server.host, server.port)``.

PgBouncer (Debian's package, installed by .ci/run) refuses to run as root, so
it runs as nobody (see unprivileged.py), from a private temporary directory
holding its config, auth file, pid file, log and unix socket, on a free
127.0.0.1 port: never the Debian service's 6432.

Gotchas for callers:
- PgBouncer 1.18 in transaction mode does not support protocol-level prepared
  statements, which psycopg 3 makes after 5 runs of one query: connect with
  prepare_threshold=None (PgBouncer.connect does).
- Pools are per (database, user): a test that needs a known, empty pool uses a
  database of its own (make_db).
- SET, advisory locks, LISTEN, temp tables and the like do not survive past a
  transaction in transaction mode: that is what the pooled tests are about.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import psycopg
import pytest

from unprivileged import Abort, free_port, give, popen_kwargs, private_dir, tail, wait_until

MODES = ("transaction", "session")
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


def pgbouncer_binary() -> str:
    found = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if os.access("/usr/sbin/pgbouncer", os.X_OK) else None)
    if found is None:
        raise RuntimeError("PgBouncer is not installed (no pgbouncer on PATH nor /usr/sbin/pgbouncer): "
                           "apt-get install pgbouncer (.ci/run installs it)")
    return found


class PgBouncer:
    """One PgBouncer process pooling every database of host:port for user postgres.

    ``start()`` returns once it accepts connections; ``stop()`` stops it and
    removes its directory (safe to call twice, and after a failed start).
    """

    def __init__(self, server_host: str = "127.0.0.1", server_port: int = 5432, mode: str = "transaction",
                 pool_size: int = 4, user: str = "postgres", max_client_conn: int = 200) -> None:
        if mode not in MODES:
            raise ValueError(f"pool_mode must be one of {MODES}, not {mode!r}")
        self.server_host = server_host
        self.server_port = server_port
        self.mode = mode
        self.pool_size = pool_size
        self.user = user
        self.max_client_conn = max_client_conn
        self.host = "127.0.0.1"
        self.port = 0
        self.root: Path | None = None
        self.process: subprocess.Popen | None = None

    # -- addresses -------------------------------------------------------------

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname}"

    @property
    def admin_url(self) -> str:
        """The admin console (SHOW POOLS, SHOW SERVERS, ...): autocommit, simple queries only."""
        return self.url("pgbouncer")

    def connect(self, dbname: str = "postgres", autocommit: bool = True, **kwargs) -> psycopg.Connection:
        """A psycopg connection through the pooler, without server-side prepared statements."""
        kwargs.setdefault("prepare_threshold", None)
        kwargs.setdefault("connect_timeout", 10)
        return psycopg.connect(self.url(dbname), autocommit=autocommit, **kwargs)

    def admin(self, command: str) -> list[dict]:
        """Run an admin console command (e.g. "SHOW POOLS"); rows as dicts."""
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=10) as conn:
            conn.prepare_threshold = None
            cur = conn.execute(command)
            if cur.description is None:
                return []
            names = [col.name for col in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]

    def pool(self, dbname: str) -> dict | None:
        """This pooler's SHOW POOLS row for (dbname, user), if it has one yet."""
        for row in self.admin("SHOW POOLS"):
            if row["database"] == dbname and row["user"] == self.user:
                return row
        return None

    @property
    def log_path(self) -> Path | None:
        return self.root / "pgbouncer.log" if self.root else None

    def log(self) -> str:
        if self.root is None:
            return "(not started)"
        # In the foreground it logs to stderr too; errors from before the log file opens are only there.
        log = tail(self.root / "pgbouncer.log")
        return log if log.strip() and log != "(no log)" else tail(self.root / "pgbouncer.stderr")

    # -- life cycle ------------------------------------------------------------

    def _write_config(self) -> Path:
        assert self.root is not None
        auth_file = self.root / "userlist.txt"
        auth_file.write_text(f'"{self.user}" ""\n')
        config = self.root / "pgbouncer.ini"
        config.write_text(f"""\
[databases]
* = host={self.server_host} port={self.server_port}

[pgbouncer]
listen_addr = {self.host}
listen_port = {self.port}
unix_socket_dir = {self.root}
pidfile = {self.root / "pgbouncer.pid"}
logfile = {self.root / "pgbouncer.log"}
auth_type = trust
auth_file = {auth_file}
admin_users = {self.user}
stats_users = {self.user}
pool_mode = {self.mode}
default_pool_size = {self.pool_size}
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = {self.max_client_conn}
max_db_connections = 0
server_round_robin = 0
ignore_startup_parameters = extra_float_digits,options
server_login_retry = 1
query_wait_timeout = 30
log_connections = 1
log_disconnections = 1
""")
        for path in (auth_file, config):
            path.chmod(0o600)
            give(path)
        return config

    def start(self) -> "PgBouncer":
        binary = pgbouncer_binary()
        self.root = private_dir(f"pgmodelnames-pgbouncer-{self.mode}-")
        try:
            # A port free now may be taken before PgBouncer binds it: retry.
            for attempt in range(5):
                self.port = free_port()
                config = self._write_config()
                # Its stderr (errors from before the log file is open) goes next to the log.
                with open(self.root / "pgbouncer.stderr", "ab") as stderr:
                    self.process = subprocess.Popen([binary, str(config)], stdin=subprocess.DEVNULL,
                                                    stdout=stderr, stderr=stderr, cwd="/", **popen_kwargs())
                try:
                    wait_until(self._accepting, START_TIMEOUT, f"PgBouncer on port {self.port}")
                    return self
                except Abort as abort:
                    log = self.log()
                    self._end_process()
                    if str(abort) == "port taken" and attempt < 4:
                        for name in ("pgbouncer.log", "pgbouncer.stderr", "pgbouncer.pid"):
                            (self.root / name).unlink(missing_ok=True)
                        continue
                    raise RuntimeError(f"PgBouncer failed to start ({abort}); its log:\n{log}") from None
            raise AssertionError("unreachable")
        except BaseException as exc:
            log = self.log()
            self.stop()
            if isinstance(exc, TimeoutError):
                raise RuntimeError(f"{exc}; its log:\n{log}") from None
            raise

    def _accepting(self) -> bool:
        assert self.process is not None and self.root is not None
        if self.process.poll() is not None:
            raise Abort(f"exited with code {self.process.returncode}")
        log = tail(self.root / "pgbouncer.log", 100_000)
        # PgBouncer 1.18 only warns when it cannot bind its TCP port and goes on
        # with the unix socket alone; whatever holds the port is not ours.
        if f"cannot listen on {self.host}:{self.port}" in log:
            raise Abort("port taken")
        if f"listening on {self.host}:{self.port}" not in log:
            return False
        # The admin console answers without a server connection.
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=2) as conn:
            conn.prepare_threshold = None
            conn.execute("SHOW VERSION")
        return True

    def version(self) -> str:
        return str(self.admin("SHOW VERSION")[0]["version"])

    def _end_process(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)  # immediate shutdown
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT)

    def stop(self) -> None:
        try:
            self._end_process()
        finally:
            if self.root is not None:
                shutil.rmtree(self.root, ignore_errors=True)
                self.root = None

    def __enter__(self) -> "PgBouncer":
        return self.start() if self.process is None else self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return (f"PgBouncer({self.mode}, pool_size={self.pool_size}, {self.host}:{self.port} -> "
                f"{self.server_host}:{self.server_port})")


@pytest.fixture(scope="session")
def pgbouncer():
    """pgbouncer(mode="transaction", host="127.0.0.1", port=5432, pool_size=4) -> PgBouncer.

    Started on first use, once per (mode, host, port, pool_size) for the whole
    session, and stopped when the session ends. Pass the tests' server:
    ``pgbouncer("transaction", server.host, server.port)``.
    """
    started: dict[tuple, PgBouncer] = {}

    def get(mode: str = "transaction", host: str = "127.0.0.1", port: int = 5432, pool_size: int = 4) -> PgBouncer:
        key = (mode, host, int(port), pool_size)
        if key not in started:
            bouncer = PgBouncer(host, int(port), mode=mode, pool_size=pool_size)
            try:
                bouncer.start()
            except RuntimeError as exc:
                pytest.fail(str(exc), pytrace=False)
            started[key] = bouncer
        return started[key]

    try:
        yield get
    finally:
        for bouncer in started.values():
            bouncer.stop()
