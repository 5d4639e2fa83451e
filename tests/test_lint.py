"""The printed install and removal scripts pass squawk and the Postgres
language server's check (their settings and the reasons for them:
tests/lint/). The upgrade script gives neither a warning nor an error."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from support import first_server
from tools import postgrestools, squawk

LINT = Path(__file__).parent / "lint"


@pytest.fixture(scope="module")
def scripts(tmp_path_factory, server):
    if server.name != first_server():
        pytest.skip("the printed scripts are the same on every server: linted once")
    from pgmodelnames.cli import main
    import contextlib
    import io

    folder = tmp_path_factory.mktemp("printed")
    printed = {}
    for name, argv in {"upgrade": ["upgrade", "--sql"], "upgrade_app_schema": ["--schema", "app", "upgrade", "--sql"],
                       "downgrade": ["downgrade", "base", "--sql"]}.items():
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(argv) == 0
        printed[name] = folder / f"{name}.sql"
        printed[name].write_text(out.getvalue())
    return printed


@pytest.mark.parametrize("name", ["upgrade", "upgrade_app_schema", "downgrade"])
def test_squawk_finds_nothing(scripts, name):
    result = subprocess.run([squawk(), "-c", str(LINT / "squawk.toml"), "--reporter", "gcc", str(scripts[name])],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("name", ["upgrade", "upgrade_app_schema"])
def test_the_language_server_finds_nothing_in_the_install(scripts, name):
    result = subprocess.run([postgrestools(), "check", "--config-path", str(LINT), "--colors=off",
                             "--error-on-warnings", str(scripts[name])], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Checked 1 file" in result.stdout + result.stderr


def test_the_language_server_finds_no_error_in_the_removal(scripts):
    # Its warnings are the removal's design: every lock at once, then quick drops of our own tables.
    result = subprocess.run([postgrestools(), "check", "--config-path", str(LINT), "--colors=off",
                             str(scripts["downgrade"])], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in (result.stdout + result.stderr).lower().replace("error-on-warnings", "")


def test_a_real_finding_fails_the_lint(tmp_path):
    """The linters really run and really fail: a statement PostgreSQL itself rejects
    in a transaction, and an unguarded lock-taking change."""
    bad = tmp_path / "bad.sql"
    bad.write_text("BEGIN;\nSET LOCAL lock_timeout = '5s';\nSET LOCAL statement_timeout = '5min';\n"
                   "CREATE INDEX CONCURRENTLY IF NOT EXISTS m_idx ON public.messages (model_id);\nCOMMIT;\n")
    assert subprocess.run([squawk(), "-c", str(LINT / "squawk.toml"), str(bad)], capture_output=True).returncode == 1
    assert subprocess.run([postgrestools(), "check", "--config-path", str(LINT), "--colors=off", str(bad)],
                          capture_output=True).returncode == 1
