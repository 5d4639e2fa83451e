"""`pgmodelnames doctor`: before install, healthy, each problem it names, --json."""

from __future__ import annotations

import json

import pytest

from pgmodelnames import errors
from support import LEGACY_REVISIONS, add_model, closed_port, legacy_install

ORPHAN = "fdab6388-2c1e-4c5a-9f0e-6b1d2a7c9e41"
BLANK = "5a7d9c3e-1b2f-4d6a-8c0e-9f1a2b3c4d5e"
UUID_NAMED = "8e2b4d61-9a0c-4f3e-b7d5-1c2e3f4a5b6c"
HUMAN = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"


def add_messages(db, model_id: str, provider: str, count: int = 1) -> None:
    db.execute("INSERT INTO messages (model_id, provider, role) SELECT %s, %s, 'assistant' "
               "FROM generate_series(1, %s)", [model_id, provider, count])


def doctor_json(db, *args: str) -> tuple[int, dict]:
    result = db.cli("doctor", "--json", *args)
    assert result.err == "", result.err
    return result.code, json.loads(result.out)


def codes(report: dict, key: str = "problems") -> set[str]:
    return {p["code"] for p in report[key]}


def test_before_install_says_run_upgrade(app_db):
    result = app_db.cli("doctor")
    assert result.code == errors.PROBLEMS_FOUND, result.err
    assert "not installed" in result.out
    assert "-> pgmodelnames upgrade" in result.out


def test_healthy_after_install(installed_db):
    result = installed_db.cli("doctor")
    assert result.code == errors.OK, result.out + result.err
    assert "Healthy" in result.out
    code, report = doctor_json(installed_db)
    assert code == errors.OK
    assert report["healthy"] is True and report["problems"] == []
    assert report["revision"] == report["head"] == "0007"
    assert report["objects"]["view"] == {"present": True, "security_invoker": True}
    assert report["objects"]["placeholder_trigger"] == {"present": True, "enabled": True, "missing": None,
                                                         "disabled": []}
    assert report["objects"]["guard_trigger"] == {"present": True, "enabled": True}


def test_json_shape(minimal_db):
    app_db = minimal_db
    code, report = doctor_json(app_db)
    assert code == errors.PROBLEMS_FOUND
    assert set(report) >= {"database", "app_schema", "installed", "revision", "head", "covered_providers",
                           "objects", "models", "unknown_model_ids", "messages_scan", "problems", "notes",
                           "healthy"}
    assert report["installed"] is False and report["revision"] is None
    assert report["app_schema"] == "public" and report["covered_providers"] == ["vllm"]
    assert report["database"]["dbname"] == app_db.dbname
    problem = report["problems"][0]
    assert problem == {"code": "not_installed", "message": problem["message"],
                       "next_steps": ["pgmodelnames upgrade"]}


def test_problems_before_and_after_upgrade(app_db):
    add_model(app_db, BLANK, "  ")
    add_model(app_db, UUID_NAMED, UUID_NAMED)
    add_model(app_db, HUMAN, "GPT-4o mini", provider="openai")
    add_messages(app_db, ORPHAN, "vllm", 3)
    add_messages(app_db, ORPHAN.upper(), " vLLM", 2)  # the same model, spelled differently
    add_messages(app_db, HUMAN, "openai", 4)

    code, report = doctor_json(app_db)
    assert code == errors.PROBLEMS_FOUND
    assert codes(report) == {"not_installed", "names_missing", "names_uuid_name", "orphans"}
    states = {(m["provider"], m["state"]): m["models"] for m in report["models"]}
    assert states == {("vllm", "missing"): 1, ("vllm", "uuid_name"): 1}  # openai is not covered
    orphans = [u for u in report["unknown_model_ids"] if u["covered"] and u["is_uuid"]]
    assert orphans == [{"provider": "vllm", "covered": True, "is_uuid": True, "model_ids": 1, "messages": 5,
                        "examples": [{"model_id": ORPHAN, "messages": 5}]}]

    app_db.upgrade()
    code, report = doctor_json(app_db)
    assert code == errors.PROBLEMS_FOUND
    # Everything is readable now; three placeholders wait for a real name, and no server is
    # known for any of them: a backfill cannot help, a person must say which model each is.
    assert codes(report) == {"placeholders_need_a_person"}
    states = {(m["provider"], m["state"]): m["models"] for m in report["models"]}
    assert states == {("vllm", "placeholder"): 3}
    assert report["unknown_model_ids"] == []
    steps = report["problems"][0]["next_steps"]
    assert steps[0].startswith("pgmodelnames backfill --assign --endpoint http://VLLM_HOST:8000")
    assert f"pgmodelnames backfill --map {ORPHAN}=SERVED_ID --endpoint http://VLLM_HOST:8000" in steps
    assert any(s.startswith("or by hand: pgmodelnames rename ") for s in steps)
    assert [p["model"] for p in report["placeholders"]][0] == ORPHAN  # most messages first
    assert report["placeholders"][0]["evidence"]["messages"] == 5

    assert app_db.cli("rename", ORPHAN, "Llama 3.1 8B").code == 0
    assert app_db.cli("rename", BLANK, "Qwen 2.5 7B").code == 0
    assert app_db.cli("rename", UUID_NAMED, "Mistral 7B").code == 0
    code, report = doctor_json(app_db)
    assert code == errors.OK, report["problems"]
    assert {(m["provider"], m["state"]): m["models"] for m in report["models"]} == {("vllm", "named_by_human"): 3}


@pytest.mark.parametrize("shape", ["statement", "row"])
def test_disabled_placeholder_trigger(installed_db, shape):
    # The trigger that handles INSERT in each shape.
    trigger = "zz_pgmodelnames_placeholder_insert" if shape == "statement" else "zz_pgmodelnames_placeholder"
    assert installed_db.value("SELECT pgmodelnames.set_trigger_shape(%s)", (shape,)) == shape
    installed_db.execute(f"ALTER TABLE messages DISABLE TRIGGER {trigger}")
    add_messages(installed_db, ORPHAN, "vllm", 2)
    result = installed_db.cli("doctor")
    assert result.code == errors.PROBLEMS_FOUND
    assert "placeholder trigger       DISABLED" in result.out
    code, report = doctor_json(installed_db)
    assert codes(report) == {"placeholder_trigger_disabled", "orphans"}
    assert report["objects"]["placeholder_trigger"]["disabled"] == [trigger]
    steps = [s for p in report["problems"] for s in p["next_steps"]]
    assert f'psql: ALTER TABLE "public".messages ENABLE TRIGGER {trigger};' in steps

    # Following the advice fixes it.
    installed_db.execute(f"ALTER TABLE messages ENABLE TRIGGER {trigger}")
    assert installed_db.cli("upgrade", "--providers", "vllm").code == 0
    code, report = doctor_json(installed_db)
    assert codes(report) == {"placeholders_need_a_person"}  # known only from messages


def test_disabled_guard_trigger(installed_minimal):
    installed_db = installed_minimal
    installed_db.execute("ALTER TABLE llm_models DISABLE TRIGGER pgmodelnames_name_guard")
    code, report = doctor_json(installed_db)
    assert code == errors.PROBLEMS_FOUND
    assert codes(report) == {"guard_disabled"}
    assert report["objects"]["guard_trigger"] == {"present": True, "enabled": False}


def test_view_recreated_without_security_invoker(installed_supabase):
    installed_db = installed_supabase  # the schema with row-level security
    definition = installed_db.value("SELECT pg_get_viewdef('public.model_display_names'::regclass)")
    installed_db.execute(f"CREATE OR REPLACE VIEW public.model_display_names AS {definition}")
    assert installed_db.value("SELECT reloptions FROM pg_class WHERE oid = 'public.model_display_names'::regclass") \
        is None  # the pitfall itself: the option is gone
    code, report = doctor_json(installed_db)
    assert code == errors.PROBLEMS_FOUND
    assert codes(report) == {"view_not_security_invoker"}
    fix = report["problems"][0]["next_steps"][0]
    assert fix == 'psql: ALTER VIEW "public".model_display_names SET (security_invoker = true);'
    installed_db.execute(fix.removeprefix("psql: "))
    assert installed_db.cli("doctor").code == errors.OK


def test_missing_trigger_and_outdated_revision(installed_minimal):
    installed_db = installed_minimal
    installed_db.execute("DROP TRIGGER zz_pgmodelnames_placeholder ON messages")
    code, report = doctor_json(installed_db)
    assert codes(report) == {"placeholder_trigger_missing"}
    assert installed_db.cli("upgrade", "--providers", "vllm").code == 0  # the advised fix
    assert installed_db.cli("doctor").code == errors.OK


@pytest.mark.parametrize("revision", LEGACY_REVISIONS)
def test_a_revision_of_pgmodelnames_0_1_is_outdated(make_db, revision):
    db = make_db("minimal")
    legacy_install(db, revision)
    code, report = doctor_json(db)
    assert code == errors.PROBLEMS_FOUND
    assert codes(report) == {"outdated"}
    assert f"revision {revision} (pgmodelnames 0.1), the latest is 0007" in report["problems"][0]["message"]
    assert report["problems"][0]["next_steps"][0].startswith("pgmodelnames upgrade")
    assert db.cli("upgrade").code == 0
    assert db.cli("doctor").code == errors.OK


def test_index_on_model_id_gives_the_same_answer(app_db):
    add_messages(app_db, ORPHAN, "vllm", 3)
    add_messages(app_db, HUMAN, "openai", 2)
    add_model(app_db, BLANK, "Known")
    add_messages(app_db, BLANK, "vllm", 4)
    _, sequential = doctor_json(app_db)
    app_db.execute("CREATE INDEX ON messages (model_id)")
    _, indexed = doctor_json(app_db)
    assert sequential["messages_scan"]["method"] == "sequential scan"
    assert indexed["messages_scan"]["method"] == "loose index scan on messages.model_id"
    assert indexed["unknown_model_ids"] == sequential["unknown_model_ids"]
    assert {(u["provider"], u["messages"]) for u in indexed["unknown_model_ids"]} == {("vllm", 3), ("openai", 2)}


def test_plain_text_model_ids_are_a_note(supabase_db):
    add_messages(supabase_db, "gpt-4o-mini", "openai", 2)
    add_messages(supabase_db, "llama3", "vllm", 1)
    supabase_db.upgrade()
    code, report = doctor_json(supabase_db)
    assert code == errors.OK  # notes do not make the database unhealthy
    plain = {(u["provider"], u["examples"][0]["model_id"]) for u in report["unknown_model_ids"] if not u["is_uuid"]}
    assert plain == {("openai", "gpt-4o-mini"), ("vllm", "llama3")}
    assert codes(report, "notes") == {"non_uuid_ids"}
    assert "model_display_name(model_id, provider)" in report["notes"][0]["next_steps"][0]


def test_uncovered_provider_is_a_note(installed_minimal):
    installed_db = installed_minimal
    add_messages(installed_db, ORPHAN, "ollama", 2)
    code, report = doctor_json(installed_db)
    assert code == errors.OK
    assert codes(report, "notes") == {"uncovered_orphans"}
    assert report["notes"][0]["next_steps"][0].startswith("pgmodelnames upgrade --providers vllm,ollama")


def test_unknown_schema_is_not_ready(minimal_db):
    result = minimal_db.cli("--schema", "nosuch", "doctor")
    assert result.code == errors.NOT_READY
    assert "nosuch" in result.err and "Traceback" not in result.err


def test_cannot_connect(minimal_db):
    port = closed_port()
    result = minimal_db.cli("doctor", url=f"postgresql://postgres:s3cret@127.0.0.1:{port}/postgres")
    assert result.code == errors.CANNOT_CONNECT
    assert result.err.startswith("pgmodelnames: error: cannot connect")
    assert "s3cret" not in result.err and result.out == ""


def test_diagnostics_run_alone_before_install(minimal_db):
    """Each diagnostics file that the doctor runs before install is plain SQL that runs on its own
    (as in psql) where pgmodelnames was never installed."""
    from pgmodelnames import sqlfiles

    minimal_db.execute("INSERT INTO messages (model_id, provider) VALUES (%s, 'vllm')", [ORPHAN])
    expected = {"app_tables": "has_llm_models", "installed_objects": "view_security_invoker",
                "models_by_state": "state", "unknown_model_ids": "covered"}
    for use_index in ("off", "on"):
        with minimal_db.connect() as conn:
            conn.execute("SELECT set_config('pgmodelnames.doctor_use_index', %s, false)", [use_index])
            for name, column in expected.items():
                cur = conn.execute(sqlfiles.render(f"diagnostics/{name}.sql", "public"))
                columns = [c.name for c in cur.description]
                rows = cur.fetchall()
                assert column in columns, name
                if name == "unknown_model_ids":
                    assert [(r[columns.index("provider")], r[columns.index("messages")]) for r in rows] == \
                        [("vllm", 1)]
    assert minimal_db.value("SELECT to_regnamespace('pgmodelnames') IS NULL")  # the doctor changes nothing


def test_the_doctor_asks_a_bounded_number_of_the_servers_in_llm_models(installed_minimal, vllm_servers):
    """base_url is app data: the doctor asks at most MAX_SERVERS_ASKED of them, and says which."""
    from pgmodelnames.doctor import MAX_SERVERS_ASKED

    db = installed_minimal
    servers = [vllm_servers().serve("b1_served_name_v1_models") for _ in range(MAX_SERVERS_ASKED + 2)]
    for server in servers:
        add_model(db, name="Registered", base_url=server.url)
    add_messages(db, ORPHAN, "vllm", 1)
    code, report = doctor_json(db)
    asked = [s for s in servers if s.requests()]
    assert len(asked) == MAX_SERVERS_ASKED
    entries = {entry["url"]: entry for entry in report["servers"]}
    assert {entries[s.url]["status"] for s in asked} == {"ok"}
    skipped = [entries[s.url] for s in servers if not s.requests()]
    assert len(skipped) == 2 and all("not asked: the doctor asks at most" in e["error"] for e in skipped)
    assert "servers asked" in db.cli("doctor").out
