"""A throwaway PostgreSQL 15 cluster with pg_cron preloaded, for the tests
that check behaviour under scheduled jobs.

Not a test module: test files import the fixture with

    from cron_cluster import cron_server  # noqa: F401 (fixture)

Built from Debian's PostgreSQL 15 (/usr/lib/postgresql/15/bin) and
postgresql-15-cron (both installed by .ci/run). initdb and postgres refuse to
run as root, so the cluster runs as nobody (see unprivileged.py), with its data
directory, log and unix socket in a private temporary directory, trust auth for
user postgres, on a free 127.0.0.1 port, fsync off.

Gotchas for callers:
- Debian bookworm's pg_cron is 1.4: schedules are cron expressions with
  one-minute granularity (interval schedules such as '1 seconds' came in 1.5),
  and a new job first runs at the next minute boundary. Poll
  cron.job_run_details with a deadline of 60 s plus a margin (JOB_DEADLINE).
- pg_cron runs jobs over libpq to cron.host; here that is the unix socket
  directory (trust), so jobs do not depend on how "localhost" resolves.
- CREATE EXTENSION pg_cron works only in cron.database_name (the database
  given to the constructor).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import psycopg
import pytest

from unprivileged import free_port, private_dir, run, tail

PG_BIN = Path(os.environ.get("PGMODELNAMES_CRON_PG_BIN", "/usr/lib/postgresql/15/bin"))
CONTROL_FILE = Path("/usr/share/postgresql/15/extension/pg_cron.control")
# A job scheduled now first runs at the next whole minute (pg_cron 1.4).
JOB_DEADLINE = 60 + 45


def check_installed() -> None:
    missing = [str(path) for path in (PG_BIN / "initdb", PG_BIN / "pg_ctl", PG_BIN / "postgres") if not path.exists()]
    if missing:
        raise RuntimeError(f"PostgreSQL 15 server binaries missing ({', '.join(missing)}): "
                           "apt-get install postgresql-15 (.ci/run installs it)")
    if not CONTROL_FILE.exists():
        raise RuntimeError(f"pg_cron for PostgreSQL 15 is not installed (no {CONTROL_FILE}): "
                           "apt-get install postgresql-15-cron (.ci/run installs it)")


class CronCluster:
    """initdb + start a PostgreSQL 15 with shared_preload_libraries = 'pg_cron'.

    ``start()`` returns the port once the server accepts connections and
    pg_cron's database exists; ``stop()`` stops it and removes everything (safe
    to call twice, and after a failed start).
    """

    def __init__(self, database: str = "postgres", user: str = "postgres") -> None:
        self.database = database
        self.user = user
        self.host = "127.0.0.1"
        self.port = 0
        self.root: Path | None = None

    @property
    def data(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        assert self.root is not None
        return self.root / "server.log"

    def url(self, dbname: str | None = None) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname or self.database}"

    def connect(self, dbname: str | None = None, autocommit: bool = True, **kwargs) -> psycopg.Connection:
        kwargs.setdefault("connect_timeout", 10)
        return psycopg.connect(self.url(dbname), autocommit=autocommit, **kwargs)

    def log(self) -> str:
        return tail(self.log_path) if self.root else "(not started)"

    def _pg_ctl(self, *args: str) -> None:
        run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args)

    def _start_server(self) -> None:
        # pg_ctl's own deadline bounds the wait (-w -t).
        self._pg_ctl("-w", "-t", "60", "-l", str(self.log_path), "start")

    def start(self) -> int:
        check_installed()
        self.root = private_dir("pgmodelnames-pgcron-")
        try:
            run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", self.user, "--auth=trust",
                "--no-sync", "-E", "UTF8", "--locale=C")
            with (self.data / "postgresql.conf").open("a") as conf:
                conf.write(f"""
# pgmodelnames test cluster
listen_addresses = '{self.host}'
unix_socket_directories = '{self.root}'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_preload_libraries = 'pg_cron'
cron.database_name = '{self.database}'
cron.host = '{self.root}'
cron.log_run = on
""")
            for attempt in range(5):
                self.port = free_port()
                with (self.data / "postgresql.conf").open("a") as conf:
                    conf.write(f"port = {self.port}\n")  # the last one wins
                try:
                    self._start_server()
                    break
                except RuntimeError:
                    if "Address already in use" in self.log() and attempt < 4:
                        continue
                    raise
            if self.database != "postgres":
                with self.connect("postgres") as conn:
                    conn.execute(f'CREATE DATABASE "{self.database}"')
                # pg_cron's launcher reads its database at start: restart so it finds it.
                self._pg_ctl("-w", "-t", "60", "-m", "fast", "-l", str(self.log_path), "restart")
            return self.port
        except BaseException as exc:
            log = self.log()
            self.stop()
            if isinstance(exc, RuntimeError):
                raise RuntimeError(f"{exc}\nserver log:\n{log}") from None
            raise

    def stop(self) -> None:
        root, self.root = self.root, None
        if root is None:
            return
        try:
            if (root / "data" / "postmaster.pid").exists():
                try:
                    run(str(PG_BIN / "pg_ctl"), "-D", str(root / "data"), "-m", "fast", "-w", "-t", "30", "stop")
                except RuntimeError:
                    run(str(PG_BIN / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "-w", "-t", "30",
                        "stop")
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def __enter__(self) -> "CronCluster":
        if self.root is None:
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"CronCluster({self.host}:{self.port}, cron.database_name={self.database!r})"


@pytest.fixture(scope="session")
def cron_server():
    """A running CronCluster (pg_cron in database 'postgres'), one per session."""
    cluster = CronCluster()
    try:
        cluster.start()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()
