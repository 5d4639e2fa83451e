"""The printed install script applies in full or leaves the database exactly
as it was, catalog and data, from every state it accepts, whoever applies it.
Failures are made real with an event trigger that refuses one kind of
statement (CREATE VIEW, CREATE TRIGGER, COMMENT), as a platform's or a DBA's
policy would. And while it applies, the app's inserts all get their
placeholders."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest

from appliers import CLI_WAYS, PSQL_WAYS, WAYS, apply
from catalog import app_rows, snapshot, without_cli_history
from support import legacy_half_install, legacy_install, seed_problem

REFUSED = ("CREATE VIEW", "CREATE TRIGGER", "COMMENT")
STATES = ("fresh", "installed_and_changed", "after_downgrade_base", "half_installed_0.1", "0.1_at_0003",
          "0.1_at_0005")


def bookkeeping(db) -> dict[str, list]:
    """Every row of pgmodelnames' own tables (what an install writes besides the catalog)."""
    tables = [row[0] for row in db.query(
        "SELECT c.oid::regclass::text FROM pg_class c WHERE c.relnamespace = to_regnamespace('pgmodelnames') "
        "AND c.relkind = 'r' ORDER BY 1")]
    return {table: db.query(f"SELECT t::text FROM {table} t ORDER BY 1") for table in tables}


def everything(db) -> dict:
    return {"catalog": snapshot(db), "rows": app_rows(db), "bookkeeping": bookkeeping(db)}


def prepare(db, state: str) -> None:
    if db.kind == "minimal":
        seed_problem(db)
    if state == "installed_and_changed":
        db.upgrade()
        # Something for the install to put back, so that it has DDL to do.
        db.execute("ALTER VIEW public.model_display_names RESET (security_invoker)")
        db.execute("DROP TRIGGER zz_pgmodelnames_placeholder ON public.messages")
    elif state == "after_downgrade_base":
        db.upgrade()
        assert db.cli("downgrade", "base").code == 0
    elif state == "half_installed_0.1":
        legacy_half_install(db)
    elif state.startswith("0.1_at_"):
        legacy_install(db, state.rsplit("_", 1)[1])


def refuse(db, tag: str) -> None:
    db.execute(f"""
        CREATE FUNCTION public.refuse_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'policy: % is not allowed here', tg_tag; END $$;
        CREATE EVENT TRIGGER refuse_ddl ON ddl_command_start WHEN TAG IN ('{tag}')
            EXECUTE FUNCTION public.refuse_ddl();""")


def allow(db) -> None:
    db.execute("DROP EVENT TRIGGER refuse_ddl; DROP FUNCTION public.refuse_ddl();")


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("tag", REFUSED)
def test_a_failed_apply_leaves_the_database_as_it_was(make_db, tmp_path, state, tag):
    db = make_db("minimal")
    prepare(db, state)
    script = db.cli("upgrade", "--sql").out
    refuse(db, tag)
    before = everything(db)
    applied = apply("psql -f", db, script, tmp_path)
    assert f"policy: {tag}" in applied.stderr, applied.stderr
    assert everything(db) == before
    allow(db)
    # Without the refusal the same script completes.
    again = apply("psql -v ON_ERROR_STOP=1 -f", db, script, tmp_path)
    assert again.returncode == 0, again.stderr
    assert db.cli("doctor").code in (0, 1)
    assert db.value("SELECT version_num FROM pgmodelnames.alembic_version") == "0007"
    assert db.query("SELECT object FROM pgmodelnames.installed_objects") != []


@pytest.mark.parametrize("way", WAYS)
def test_every_way_of_applying_is_all_or_nothing(make_db, tmp_path, way):
    db = make_db("supabase")
    prepare(db, "0.1_at_0005")
    script = db.cli("upgrade", "--sql").out
    refuse(db, "CREATE TRIGGER")
    before = everything(db)
    failed = apply(way, db, script, tmp_path)
    assert "policy: CREATE TRIGGER" in failed.stdout + failed.stderr, failed.stdout + failed.stderr
    if way in CLI_WAYS or "ON_ERROR_STOP" in way:
        assert failed.returncode != 0
    after = everything(db)
    if way in CLI_WAYS:
        # The CLI's own history table is not ours to compare: nothing was recorded in it.
        assert db.value("SELECT count(*) FROM supabase_migrations.schema_migrations") == 0
        after["catalog"] = without_cli_history(after["catalog"])
    assert after == before
    allow(db)
    done = apply(way, db, script, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert db.value("SELECT version_num FROM pgmodelnames.alembic_version") == "0007"
    assert db.cli("doctor").code == 0


@pytest.mark.parametrize("state", ["fresh", "half_installed_0.1", "0.1_at_0005"])
def test_inserts_while_the_script_applies_all_get_their_placeholders(make_db, tmp_path, state):
    """An app inserts messages of brand-new vLLM models all along; afterwards each has its
    placeholder, and no insert met a pgmodelnames WARNING (a function missing mid-way)."""
    db = make_db("minimal")
    prepare(db, state)
    script = db.cli("upgrade", "--sql").out
    models: list[uuid.UUID] = []
    warnings: list[str] = []
    stop = threading.Event()

    def app() -> None:
        with psycopg.connect(db.url, autocommit=True) as conn:
            conn.add_notice_handler(lambda notice: warnings.append(notice.message_primary))
            while not stop.is_set():
                model = uuid.uuid4()
                conn.execute("INSERT INTO public.messages (model_id, provider) VALUES (%s, 'vllm')", (model,))
                models.append(model)
                time.sleep(0.005)

    inserter = threading.Thread(target=app)
    inserter.start()
    try:
        time.sleep(0.3)
        applied = apply("psql -v ON_ERROR_STOP=1 -f", db, script, tmp_path)
        time.sleep(0.3)
    finally:
        stop.set()
        inserter.join()
    assert applied.returncode == 0, applied.stderr
    assert len(models) > 20
    missing = db.value("""SELECT count(*) FROM unnest(%s::uuid[]) AS m(id)
                           WHERE NOT EXISTS (SELECT FROM public.llm_models l WHERE l.id = m.id)""", (models,))
    assert missing == 0
    assert [w for w in warnings if "pgmodelnames" in w] == []


@pytest.mark.parametrize("way", PSQL_WAYS)
def test_the_script_completes_from_every_state(make_db, tmp_path, way):
    reference = make_db("supabase")
    reference.upgrade()
    for state in STATES:
        db = make_db("supabase")
        prepare(db, state)
        applied = apply(way, db, db.cli("upgrade", "--sql").out, tmp_path)
        assert applied.returncode == 0 and "ERROR" not in applied.stderr, (state, applied.stderr)
        assert snapshot(db) == snapshot(reference), state
        assert db.cli("doctor").code == 0, state
