"""The foundation: migrations apply, roll back, print as SQL and coexist with the app."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
import uuid

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from alembic.config import Config
from alembic.script import ScriptDirectory

from catalog import app_rows, snapshot
from pgmodelnames import sqlfiles
from pgmodelnames.config import resource_dir
from support import PASSWORD_ROLE, first_server, seed_problem, wait_for_lock_wait

HEAD = "0007"


def test_single_head():
    cfg = Config()
    cfg.set_main_option("script_location", str(resource_dir("migrations")))
    heads = ScriptDirectory.from_config(cfg).get_heads()
    assert heads == [HEAD]


def test_upgrade_installs_schema_and_version_table(app_db):
    result = app_db.cli("upgrade")
    assert result.code == 0, result.err
    assert "upgraded nothing -> 0007" in result.out
    assert app_db.value("SELECT version_num FROM pgmodelnames.alembic_version") == HEAD
    assert app_db.cli("current").out.strip() == HEAD
    # A second run finds nothing to do.
    again = app_db.cli("upgrade")
    assert again.code == 0 and "nothing to do" in again.out


def test_round_trip_restores_objects_and_keeps_rows(app_db):
    seed_problem(app_db)
    before = snapshot(app_db)
    app_db.upgrade()
    after_upgrade_rows = app_rows(app_db)
    result = app_db.cli("downgrade", "base")
    assert result.code == 0, result.err
    after = snapshot(app_db)
    # Only the (empty) pgmodelnames schema and its version table remain.
    assert [r[0] for r in after["schemas"] if r not in before["schemas"]] == ["pgmodelnames"]
    for key in ("functions", "views", "triggers", "policies"):
        assert after[key] == before[key], key
    assert [c for c in after["constraints"] if not c[0].startswith("pgmodelnames.")] == before["constraints"]
    assert [c for c in after["columns"] if c[0] != "pgmodelnames"] == before["columns"]
    # Rows are kept as the upgrade left them: filled names and placeholders stay.
    assert app_rows(app_db) == after_upgrade_rows
    assert app_db.cli("upgrade").code == 0
    assert app_db.value("SELECT version_num FROM pgmodelnames.alembic_version") == HEAD


def test_offline_sql_matches_online_upgrade(make_db, tmp_path):
    online = make_db("supabase")
    offline = make_db("supabase")
    online.upgrade()
    script = offline.cli("upgrade", "--sql")
    assert script.code == 0, script.err
    assert "CREATE TABLE IF NOT EXISTS pgmodelnames.alembic_version" in script.out
    path = tmp_path / "upgrade.sql"
    path.write_text(script.out)
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", offline.url, "-f", str(path)],
                   check=True, capture_output=True)
    assert snapshot(offline) == snapshot(online)
    assert offline.value("SELECT version_num FROM pgmodelnames.alembic_version") == HEAD

    down = offline.cli("downgrade", "base", "--sql")
    path.write_text(down.out)
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", offline.url, "-f", str(path)],
                   check=True, capture_output=True)
    online.cli("downgrade", "base")
    assert snapshot(offline) == snapshot(online)


def test_offline_sql_needs_no_database():
    env = dict(os.environ, DATABASE_URL="")
    result = subprocess.run([sys.executable, "-m", "pgmodelnames", "upgrade", "--sql", "--schema", "app"],
                            capture_output=True, text=True, env=env, cwd="/")
    assert result.returncode == 0, result.stderr
    assert 'CREATE OR REPLACE TRIGGER pgmodelnames_name_guard' in result.stdout
    assert '"app".llm_models' in result.stdout


def test_host_alembic_version_untouched(app_db):
    app_db.execute("CREATE TABLE public.alembic_version (version_num varchar(32) PRIMARY KEY)")
    app_db.execute("INSERT INTO public.alembic_version VALUES ('app_rev_42')")
    app_db.upgrade()
    assert app_db.query("SELECT version_num FROM public.alembic_version") == [("app_rev_42",)]
    app_db.cli("downgrade", "base")
    assert app_db.query("SELECT version_num FROM public.alembic_version") == [("app_rev_42",)]


def test_plain_alembic_from_repo_root(app_db):
    root = resource_dir("migrations").parent
    env = dict(os.environ, DATABASE_URL=app_db.url)
    up = subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=root, env=env,
                        capture_output=True, text=True)
    assert up.returncode == 0, up.stderr
    assert app_db.cli("current").out.strip() == HEAD
    down = subprocess.run([sys.executable, "-m", "alembic", "downgrade", "base"], cwd=root, env=env,
                          capture_output=True, text=True)
    assert down.returncode == 0, down.stderr
    assert app_db.cli("current").out.strip() == "not installed"


def test_concurrent_upgrades_do_not_collide(app_db):
    seed_problem(app_db)
    env = dict(os.environ, DATABASE_URL=app_db.url)
    procs = [subprocess.Popen([sys.executable, "-m", "pgmodelnames", "upgrade"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    assert sum("upgraded" in out for out, _ in outputs) == 1
    assert sum("nothing to do" in out for out, _ in outputs) == 2
    assert app_db.value("SELECT count(*) FROM pgmodelnames.alembic_version") == 1
    assert app_db.value("SELECT count(*) FROM public.llm_models WHERE id = 'fdab6388-0000-4000-8000-000000000001'") == 1


def test_preflight_names_what_is_missing_and_changes_nothing(make_db):
    db = make_db("minimal")
    db.execute("ALTER TABLE public.messages DROP COLUMN provider")
    result = db.cli("upgrade")
    assert result.code == 4
    assert "column messages.provider" in result.err
    assert "Traceback" not in result.err and result.err.count("\n") == 1
    assert db.value("SELECT to_regclass('pgmodelnames.installation')") is None


def test_preflight_missing_table(make_db):
    db = make_db("minimal")
    db.execute("DROP TABLE public.llm_models")
    result = db.cli("upgrade")
    assert result.code == 4 and "table public.llm_models" in result.err


def test_preflight_refuses_unfillable_not_null_column(make_db):
    db = make_db("minimal")
    db.execute("ALTER TABLE public.llm_models ADD COLUMN tenant_id integer NOT NULL")
    result = db.cli("upgrade")
    assert result.code == 4 and "tenant_id (integer)" in result.err


def test_unknown_schema(app_db):
    result = app_db.cli("--schema", "nope", "upgrade")
    assert result.code == 4 and "schema nope does not exist" in result.err


def test_cannot_connect_closed_port_hides_password(app_db):
    url = f"postgresql://postgres:s3cret-pw@127.0.0.1:1/{app_db.dbname}"
    result = app_db.cli("upgrade", url=url)
    assert result.code == 3
    assert "cannot connect" in result.err and "s3cret-pw" not in result.err + result.out
    assert result.err.count("\n") == 1


def test_unknown_role_and_database(app_db, server):
    bad_user = f"postgresql://no_such_role:s3cret-pw@{server.host}:{server.port}/{app_db.dbname}"
    result = app_db.cli("current", url=bad_user)
    assert result.code == 3 and "s3cret-pw" not in result.err
    missing_db = server.url("no_such_database_x")
    result = app_db.cli("upgrade", url=missing_db)
    assert result.code == 3 and "no_such_database_x" in result.err


def test_wrong_password(app_db, server):
    app_db.execute(f"""DO $$ BEGIN CREATE ROLE {PASSWORD_ROLE} LOGIN PASSWORD 'right-pw';
                       EXCEPTION WHEN duplicate_object THEN NULL; END $$""")
    url = f"postgresql://{PASSWORD_ROLE}:wr0ng-pw@{server.host}:{server.port}/{app_db.dbname}"
    try:
        psycopg.connect(url, connect_timeout=5).close()
        pytest.skip("this server trusts every local connection; the embedded server checks passwords")
    except psycopg.OperationalError:
        pass
    result = app_db.cli("upgrade", url=url)
    assert result.code == 3
    assert "password authentication failed" in result.err
    assert "wr0ng-pw" not in result.err + result.out and result.err.count("\n") == 1


def test_postgres_scheme_and_options_after_command(app_db):
    url = app_db.url.replace("postgresql://", "postgres://")
    from pgmodelnames.cli import main
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["upgrade", "--database-url", url]) == 0
    assert app_db.value("SELECT version_num FROM pgmodelnames.alembic_version") == HEAD


@pytest.mark.parametrize("how", ["online", "printed"])
def test_lock_timeout_is_one_line_and_exit_5(app_db, tmp_path, how):
    """--lock-attempts travels inside the migration's transaction (no connection option a pooler may drop)."""
    with app_db.connect(autocommit=False) as holder:
        holder.execute("LOCK TABLE public.llm_models IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        if how == "online":
            result = app_db.cli("upgrade", "--lock-attempts", "3")
        else:
            path = tmp_path / "install.sql"
            path.write_text(app_db.cli("upgrade", "--sql", "--lock-attempts", "3").out)
            printed = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", app_db.url, "-f", str(path)],
                                     capture_output=True, text=True)
        elapsed = time.monotonic() - started
        holder.rollback()
    if how == "online":
        assert result.code == 5, result.err
        assert "lock not obtained" in result.err and result.err.count("\n") == 1
        assert "after 3 attempts" in result.err
    else:
        assert printed.returncode != 0 and "after 3 attempts" in printed.stderr
    assert elapsed < 30
    # The failed revision left nothing behind; a retry completes.
    assert app_db.value("SELECT to_regclass('public.model_display_names')") is None
    assert app_db.cli("upgrade").code == 0


# A long app transaction's statement, and whether the install must wait for
# it: reading messages (ACCESS SHARE) does not conflict with the SHARE ROW
# EXCLUSIVE lock of CREATE TRIGGER, so the install goes ahead beside it.
LONG_TRANSACTIONS = {
    "wrote messages": ("INSERT INTO public.messages (model_id, provider) VALUES (gen_random_uuid(), 'openai')", True),
    "read messages": ("SELECT count(*) FROM public.messages", False),
    "read llm_models": ("SELECT count(*) FROM public.llm_models", True),
    "wrote llm_models": ("UPDATE public.llm_models SET provider = provider WHERE provider = 'vllm'", True),
}


@pytest.mark.parametrize("long_transaction", LONG_TRANSACTIONS)
def test_upgrade_waits_only_briefly_for_its_locks(app_db, long_transaction):
    """While the upgrade waits for its locks, the app's reads and writes of
    llm_models and messages are not queued behind it for more than an
    attempt's timeout, and the upgrade holds nothing meanwhile."""
    seed_problem(app_db)
    statement, must_wait = LONG_TRANSACTIONS[long_transaction]
    holder = app_db.connect(autocommit=False)
    # A long app transaction that read or wrote one of the app's tables holds
    # a lock the install's lock step may have to wait for; a plain waiting
    # LOCK would queue every later statement on that table behind its request.
    holder.execute(statement)
    upgraded = threading.Event()
    upgrader = threading.Thread(target=lambda: (app_db.cli("upgrade"), upgraded.set()))
    upgrader.start()
    waits = []
    try:
        if must_wait:
            # Time the app only once the upgrade is seen waiting on a lock (the
            # holder's: no other session holds one); fast statements before
            # that would prove nothing.
            assert wait_for_lock_wait(app_db, seconds=20, not_pid=holder.info.backend_pid), \
                "the upgrade was never seen waiting for a lock"
        else:
            assert upgraded.wait(60), "the upgrade waited for a transaction it does not conflict with"
        with app_db.connect() as app:
            for _ in range(5):
                for app_statement in ("INSERT INTO public.messages (model_id, provider) "
                                      "VALUES (gen_random_uuid(), 'openai')",
                                      "SELECT count(*) FROM public.llm_models",
                                      "UPDATE public.llm_models SET provider = provider WHERE provider = 'openai'"):
                    started = time.monotonic()
                    app.execute(app_statement)
                    waits.append(time.monotonic() - started)
                time.sleep(0.1)
            if must_wait:
                # The app really ran while the upgrade was waiting for the
                # holder: nothing of the install is committed yet.
                assert app.execute("SELECT to_regclass('pgmodelnames.alembic_version')").fetchone()[0] is None
    finally:
        holder.rollback()
        holder.close()
        upgrader.join(timeout=120)
    # Queued behind a plain LOCK, a statement would wait for the whole
    # lock_timeout or for the long transaction; behind the retrying lock step
    # it waits at most one 100 ms attempt (1 s leaves room for a slow machine).
    assert max(waits) < 1.0, waits
    assert app_db.value("SELECT version_num FROM pgmodelnames.alembic_version") == HEAD


def test_uninstall_removes_schema_and_keeps_rows(app_db):
    seed_problem(app_db)
    app_db.upgrade()
    rows = app_rows(app_db)
    result = app_db.cli("uninstall")
    assert result.code == 0, result.err
    assert "kept every row" in result.out
    assert app_db.value("SELECT to_regnamespace('pgmodelnames')") is None
    assert app_db.value("SELECT to_regclass('public.model_display_names')") is None
    assert app_rows(app_db) == rows
    assert app_db.cli("uninstall").out.startswith("pgmodelnames: not installed")
    script = app_db.cli("uninstall", "--sql")
    assert script.code == 0 and "DROP SCHEMA IF EXISTS pgmodelnames;" in script.out


def test_non_public_schema_via_flag_and_env(make_db, monkeypatch):
    db = make_db("minimal")
    db.execute("ALTER SCHEMA public RENAME TO app")
    db.execute("CREATE SCHEMA public")
    monkeypatch.setenv("PGMODELNAMES_SCHEMA", "app")
    assert db.cli("upgrade").code == 0
    assert db.value("SELECT to_regclass('app.model_display_names')") is not None
    monkeypatch.delenv("PGMODELNAMES_SCHEMA")
    # Later commands find the installed schema by themselves...
    assert db.cli("doctor").code == 0
    assert db.cli("downgrade", "base").code == 0
    assert db.value("SELECT to_regclass('app.model_display_names')") is None
    # At base nothing records the schema any more: name it again.
    assert db.cli("--schema", "app", "upgrade").code == 0
    # ...and refuse a different one.
    result = db.cli("--schema", "public", "upgrade")
    assert result.code == 4 and "installed for schema 'app'" in result.err


def test_wheel_installs_and_upgrades_from_any_directory(make_db, server, tmp_path):
    if server.name != first_server():
        pytest.skip("packaging is checked once, on the first server")
    app_db = make_db("supabase")
    # From a copy of what git tracks: setuptools' build/ folder in a checkout
    # can hold files that are gone from the tree.
    source = tmp_path / "source"
    source.mkdir()
    root = resource_dir("migrations").parent
    tracked = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root, check=True, capture_output=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        if (root / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, source / name)
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "dist"), str(source)],
                   check=True, capture_output=True)
    wheel = next((tmp_path / "dist").glob("pgmodelnames-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env["DATABASE_URL"] = app_db.url
    result = subprocess.run([str(venv / "bin" / "pgmodelnames"), "upgrade"], cwd=elsewhere, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert app_db.value("SELECT version_num FROM pgmodelnames.alembic_version") == HEAD
    sql = subprocess.run([str(venv / "bin" / "pgmodelnames"), "upgrade", "--sql"], cwd=elsewhere, env=env,
                         capture_output=True, text=True)
    assert sql.returncode == 0 and "model_display_names" in sql.stdout


@pytest.mark.parametrize("schema", ["a$$b", "we;ird sp", "Mixed Case"])
def test_an_app_schema_with_an_unusual_name(make_db, tmp_path, schema):
    """Online and as the printed script: the name only ever travels quoted."""
    for how in ("online", "printed"):
        db = make_db("minimal")
        db.execute(f'ALTER SCHEMA public RENAME TO "{schema}"; CREATE SCHEMA public')
        if how == "online":
            assert db.cli("--schema", schema, "upgrade").code == 0
        else:
            path = tmp_path / "install.sql"
            path.write_text(db.cli("--schema", schema, "upgrade", "--sql").out)
            subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db.url, "-f", str(path)],
                           check=True, capture_output=True)
        model = uuid.uuid4()
        db.execute(f'INSERT INTO "{schema}".messages (model_id, provider) VALUES (%s, \'vllm\')', (model,))
        assert db.value(f'SELECT display_name FROM "{schema}".model_display_names WHERE id = %s', (model,)) \
            == f"Unknown vllm model {str(model)[:8]}"
        assert db.cli("doctor").code == 1  # the new placeholder waits for a name
        assert db.cli("uninstall").code == 0
        assert db.value("SELECT to_regnamespace('pgmodelnames')") is None


def test_a_schema_name_that_would_end_a_function_body_is_refused(app_db):
    result = app_db.cli("--schema", "x$fn$y", "upgrade", "--sql")
    assert result.code == 2 and "invalid app schema name" in result.err


@pytest.mark.unit
def test_the_printed_script_leaves_out_comment_lines_between_statements_only():
    lines = [  # (line, kept)
        ("-- a comment between statements", False),
        ('CREATE SCHEMA "a$$b";  -- a trailing comment stays', True),
        ("  -- an indented one", False),
        ("-- squawk-ignore ban-drop-table", True),
        ("CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $fn$", True),
        ("-- inside a body: stored by PostgreSQL", True),
        ("BEGIN RETURN 1; END $fn$;", True),
        ("SELECT 'it''s", True),
        ("-- inside a string", True),
        ("';", True),
        ("/* a block", True),
        ("-- inside it", True),
        ('*/ SELECT "we""ird', True),
        ('-- inside an identifier";', True),
        ("DO $$ BEGIN", True),
        ("-- inside a DO block", True),
        ("END $$;", True),
        ("-- the last one", False),
    ]
    printed = sqlfiles.without_comment_lines("\n".join(line for line, _ in lines) + "\n")
    assert printed == "".join(line + "\n" for line, kept in lines if kept)


@pytest.mark.unit
@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["-- note", "  -- indented", "SELECT 1;", "'", '"', "$$", "$fn$", "/*", "*/",
                                 "x", "''", "--", "-- squawk-ignore y", "E'\\''", ""]), max_size=30)
       .map("\n".join))
def test_the_comment_line_filter_only_ever_drops_comment_lines(sql):
    printed = sqlfiles.without_comment_lines(sql)
    kept = printed.splitlines()
    assert [line for line in sql.splitlines() if not line.lstrip().startswith("--")] == \
        [line for line in kept if not line.lstrip().startswith("--")]
    if not any(opening in sql for opening in ("'", '"', "$", "/*")):  # nothing quoted: every comment line goes
        assert kept == [line for line in sql.splitlines()
                        if not line.lstrip().startswith("--") or "squawk-ignore" in line]


def test_the_printed_script_fits_in_one_argument(make_db):
    """psql -c "$(cat install.sql)" passes the script as one argument, which Linux limits to
    128 KiB (MAX_ARG_STRLEN); every line of SQL is there, only comment lines between statements
    are left out."""
    db = make_db("supabase")
    script = db.cli("upgrade", "--sql").out
    assert len(script.encode()) < 128 * 1024 - 8 * 1024  # room to grow, checked here first
    folder, = resource_dir("sql").glob(f"{HEAD}_*")
    full = sqlfiles.render(f"{folder.name}/schema.sql", "public")
    statements = [line for line in full.splitlines() if line.strip() and not line.lstrip().startswith("--")]
    printed = set(script.splitlines())
    assert [line for line in statements if line not in printed] == []
