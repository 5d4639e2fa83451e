"""Drift: an installed object changed outside pgmodelnames is named by the
doctor (with what differs, exit 1, listed in --json) and put back by
`upgrade` at head, which says what it put back. An install that finds
everything as it left it takes no lock on the app's tables."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid

import pytest

from catalog import snapshot
from pgmodelnames import errors


def doctor(db) -> tuple[int, dict]:
    result = db.cli("doctor", "--json")
    return result.code, json.loads(result.out)


def changed(report: dict) -> dict[str, dict]:
    return {entry["object"]: entry for entry in report["changed_outside"]}


def repaired(db, *objects: str) -> str:
    """upgrade at head puts the objects back and names them; afterwards nothing differs."""
    result = db.cli("upgrade")
    assert result.code == 0, result.err
    assert f"put back {len(objects)} object(s) changed outside pgmodelnames" in result.out, result.out
    for obj in objects:
        assert f"  {obj}: " in result.out, result.out
    code, report = doctor(db)
    assert report["changed_outside"] == [], report["changed_outside"]
    return result.out


def trigger_function(db) -> str:
    """The function that makes placeholders for inserted messages (the statement shape: no test
    schema has a FOREIGN KEY on messages.model_id)."""
    kind = db.value("SELECT atttypid::regtype::text FROM pg_attribute "
                    "WHERE attrelid = 'public.messages'::regclass AND attname = 'model_id'")
    return f"messages_placeholders_{'uuid' if kind == 'uuid' else 'text'}_statement"


def has_placeholder(db, model: uuid.UUID) -> bool:
    return db.value("SELECT count(*) FROM public.llm_models WHERE id = %s", (str(model),)) == 1


def insert_message(db, model: uuid.UUID) -> None:
    db.execute("INSERT INTO public.messages (model_id, provider) VALUES (%s, 'vllm')", (str(model),))


def test_a_no_op_trigger_function_of_the_same_signature(installed_db):
    name = trigger_function(installed_db)
    installed_db.execute(f"""CREATE OR REPLACE FUNCTION pgmodelnames.{name}() RETURNS trigger LANGUAGE plpgsql
                             SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$BEGIN RETURN NULL; END$$""")
    lost = uuid.uuid4()
    insert_message(installed_db, lost)
    assert not has_placeholder(installed_db, lost)  # the harm: new models get no row

    code, report = doctor(installed_db)
    assert code == errors.PROBLEMS_FOUND
    entry = changed(report)[f"function pgmodelnames.{name}()"]
    assert entry == {"object": f"function pgmodelnames.{name}()", "change": "changed",
                     "differs": ["definition"], "detail": "definition differs"}
    text = installed_db.cli("doctor").out
    assert f"changed outside pgmodelnames: function pgmodelnames.{name}(): definition differs" in text
    assert "-> pgmodelnames upgrade   (puts every changed object back as installed, and says which)" in text

    repaired(installed_db, f"function pgmodelnames.{name}()")
    new = uuid.uuid4()
    insert_message(installed_db, new)
    assert has_placeholder(installed_db, new)


@pytest.mark.parametrize("how", ["reset", "replaced"])
def test_the_view_without_security_invoker(installed_db, how):
    if how == "reset":
        installed_db.execute("ALTER VIEW public.model_display_names RESET (security_invoker)")
    else:
        # What a schema sync that forgets the option writes: the same view, without WITH.
        definition = installed_db.value("SELECT pg_get_viewdef('public.model_display_names'::regclass)")
        installed_db.execute(f"CREATE OR REPLACE VIEW public.model_display_names AS {definition}")
    code, report = doctor(installed_db)
    assert code == errors.PROBLEMS_FOUND
    assert {p["code"] for p in report["problems"]} == {"view_not_security_invoker"}
    assert changed(report)["view public.model_display_names"]["detail"] == \
        "options is none, was 'security_invoker=true'"
    repaired(installed_db, "view public.model_display_names")
    assert installed_db.value("SELECT reloptions::text FROM pg_class "
                              "WHERE oid = 'public.model_display_names'::regclass") == "{security_invoker=true}"


def test_a_granted_and_a_revoked_privilege(installed_supabase):
    db = installed_supabase
    db.execute("GRANT EXECUTE ON FUNCTION pgmodelnames.create_placeholder(uuid, text, text) TO anon")
    db.execute("REVOKE EXECUTE ON FUNCTION pgmodelnames.trimmed(text) FROM PUBLIC")
    code, report = doctor(db)
    assert code == errors.PROBLEMS_FOUND
    found = changed(report)
    assert found["function pgmodelnames.create_placeholder(uuid,text,text)"]["detail"] == \
        "privileges is 'anon EXECUTE', was none"
    assert found["function pgmodelnames.trimmed(text)"]["detail"] == "privileges is none, was 'PUBLIC EXECUTE'"
    repaired(db, "function pgmodelnames.create_placeholder(uuid,text,text)", "function pgmodelnames.trimmed(text)")
    assert not db.value("SELECT has_function_privilege('anon', 'pgmodelnames.create_placeholder(uuid,text,text)', "
                        "'EXECUTE')")
    assert db.value("SELECT has_function_privilege('authenticated', 'pgmodelnames.trimmed(text)', 'EXECUTE')")


def test_a_dropped_function(installed_db):
    installed_db.execute("DROP FUNCTION pgmodelnames.sweep_status()")
    code, report = doctor(installed_db)
    assert code == errors.PROBLEMS_FOUND
    assert changed(report)["function pgmodelnames.sweep_status()"] == {
        "object": "function pgmodelnames.sweep_status()", "change": "missing", "differs": [], "detail": "dropped"}
    repaired(installed_db, "function pgmodelnames.sweep_status()")
    assert installed_db.value("SELECT to_regprocedure('pgmodelnames.sweep_status()') IS NOT NULL")


def test_a_dropped_trigger_and_the_messages_stored_meanwhile(installed_db):
    installed_db.execute("DROP TRIGGER zz_pgmodelnames_placeholder_insert ON public.messages")
    meanwhile = uuid.uuid4()
    insert_message(installed_db, meanwhile)
    code, report = doctor(installed_db)
    assert code == errors.PROBLEMS_FOUND
    assert "placeholder_trigger_missing" in {p["code"] for p in report["problems"]}
    assert "the trigger zz_pgmodelnames_placeholder_insert on public.messages is missing" in \
        next(p["message"] for p in report["problems"] if p["code"] == "placeholder_trigger_missing")
    assert changed(report)["trigger zz_pgmodelnames_placeholder_insert on public.messages"]["change"] == "missing"
    out = repaired(installed_db, "trigger zz_pgmodelnames_placeholder_insert on public.messages")
    # Putting the trigger back leaves the history pass due, which the upgrade runs at once.
    assert "history pass: 1 placeholder(s) created" in out
    assert has_placeholder(installed_db, meanwhile)
    # Only the new placeholder's name is left to choose.
    assert {p["code"] for p in doctor(installed_db)[1]["problems"]} == {"placeholders_need_a_person"}


def test_bookkeeping_without_row_level_security(installed_minimal):
    installed_minimal.execute("ALTER TABLE pgmodelnames.machine_names DISABLE ROW LEVEL SECURITY")
    code, report = doctor(installed_minimal)
    assert changed(report)["table pgmodelnames.machine_names"]["detail"] == "row_security is off, was on"
    repaired(installed_minimal, "table pgmodelnames.machine_names")
    assert installed_minimal.value("SELECT relrowsecurity FROM pg_class WHERE oid = 'pgmodelnames.machine_names'::regclass")


def test_objects_recorded_on_another_postgresql_major_are_rerecorded(installed_minimal):
    installed_minimal.execute("""UPDATE pgmodelnames.installed_objects SET facts = '{"major": 9}'
                                  WHERE object = 'postgresql'""")
    code, report = doctor(installed_minimal)
    assert code == errors.PROBLEMS_FOUND
    assert [p["code"] for p in report["problems"]] == ["recorded_on_other_postgresql"]
    assert "major is " in report["problems"][0]["message"] and "was 9" in report["problems"][0]["message"]
    before = snapshot(installed_minimal)
    repaired(installed_minimal, "postgresql")
    assert snapshot(installed_minimal) == before


def test_an_upgrade_that_finds_everything_as_installed_changes_nothing_and_locks_nothing(installed_db, tmp_path):
    before = snapshot(installed_db)
    script = tmp_path / "again.sql"
    script.write_text(installed_db.cli("upgrade", "--sql").out)
    # A transaction that lets the app's tables and the view be read and
    # nothing else (SHARE mode): any lock the install took to change or write
    # them (a trigger, a constraint, the view, a comment, a row) would make it
    # wait, and fail after about a minute of attempts. What it does take, to
    # read definitions, is ACCESS SHARE, the lock of any SELECT.
    holder = installed_db.connect(autocommit=False)
    holder.execute("LOCK TABLE public.llm_models, public.messages, public.model_display_names IN SHARE MODE")
    try:
        started = time.monotonic()
        online = installed_db.cli("upgrade", "--lock-wait", "5")
        assert online.code == 0, online.err
        assert online.out.strip() == "pgmodelnames: already at 0007, nothing to do"
        printed = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", installed_db.url,
                                  "-f", str(script)], capture_output=True, text=True, timeout=60)
        assert printed.returncode == 0, printed.stderr
        assert time.monotonic() - started < 20
    finally:
        holder.rollback()
        holder.close()
    assert snapshot(installed_db) == before
    assert doctor(installed_db)[1]["changed_outside"] == []


def test_no_reader_sees_a_function_unpinned_or_the_revision_go_back(installed_minimal, tmp_path):
    """While the printed script re-applies over an install of the head revision, every reader sees every
    pgmodelnames function with its pinned search_path and the revision at head."""
    script = tmp_path / "again.sql"
    script.write_text(installed_minimal.cli("upgrade", "--sql").out)
    installed_minimal.execute("ALTER VIEW public.model_display_names RESET (security_invoker)")  # something to redo
    seen: list[tuple] = []
    stop = threading.Event()

    def watch() -> None:
        with installed_minimal.connect() as conn:
            while not stop.is_set():
                seen.append(conn.execute("""
                    SELECT (SELECT array_agg(version_num) FROM pgmodelnames.alembic_version),
                           (SELECT count(*) FROM pg_proc p
                             WHERE p.pronamespace = 'pgmodelnames'::regnamespace
                               AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false))
                    """).fetchone())

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for _ in range(3):
            applied = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", installed_minimal.url,
                                      "-f", str(script)], capture_output=True, text=True, timeout=120)
            assert applied.returncode == 0, applied.stderr
    finally:
        stop.set()
        watcher.join()
    assert len(seen) > 10
    assert {(tuple(versions), unpinned) for versions, unpinned in seen} == {(("0007",), 0)}
