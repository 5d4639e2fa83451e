"""The placeholder guarantees: every covered-provider model UUID gets exactly
one llm_models row, history included, and no message insert ever fails
because of pgmodelnames. Held in trigger mode by the trigger on messages in
both its shapes (statement: one set-based pass per INSERT, the default
without a FOREIGN KEY; row: one call per row, what a FOREIGN KEY needs) and,
where they apply, by the sweep (sweep mode: no trigger; the tests run the
sweep before they look). Sweep-only behaviour: test_sweep.py."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support import ALICE, BOB, as_role


def model_arg(db, model: uuid.UUID | str):
    """messages.model_id is uuid in the minimal schema and text in the Supabase one."""
    return str(model)


def insert_message(conn, model, provider="vllm", user=ALICE):
    conn.execute("INSERT INTO public.messages (user_id, model_id, provider, content) VALUES (%s, %s, %s, 'hi')",
                 (user, model, provider))


# Trigger mode in each shape, and sweep mode.
SHAPES = ["statement", "row"]
MODES = [*SHAPES, "sweep"]


def use_mode(db, mode: str):
    """Put an installed database in MODE (sweep: with an index on messages(created_at), which the
    sweep reads new rows through; row: the row trigger, as a FOREIGN KEY would make it)."""
    if mode == "sweep":
        db.execute("CREATE INDEX IF NOT EXISTS messages_created_at ON public.messages (created_at)")
        result = db.cli("upgrade", "--placeholders", "sweep")
        assert result.code == 0, result.err
    elif mode == "row":
        assert db.value("SELECT pgmodelnames.set_trigger_shape('row')") == "row"
    assert db.value("SELECT shape FROM pgmodelnames.trigger_shape()") == ("none" if mode == "sweep" else mode)
    db.mode = mode
    return db


def settle(db) -> None:
    """Sweep mode: run the sweep, as pg_cron or backfill would; trigger mode: nothing to do."""
    if getattr(db, "mode", "trigger") == "sweep":
        result = db.cli("sweep")
        assert result.code == 0, result.err


@pytest.fixture(params=[(kind, mode) for mode in MODES for kind in ("minimal", "supabase")],
                ids=lambda p: f"{p[0]}-{p[1]}")
def mode_db(request, make_db):
    """Each fixture schema, installed, in each placeholder mode."""
    kind, mode = request.param
    return use_mode(make_db(kind, installed=True), mode)


def placeholder(db, model) -> tuple | None:
    rows = db.query("SELECT name, provider, enabled FROM public.llm_models WHERE id = %s", (str(model),))
    return rows[0] if rows else None


def test_unknown_model_gets_a_placeholder(mode_db):
    installed_db = mode_db
    model = uuid.uuid4()
    with installed_db.connect() as conn:
        insert_message(conn, str(model), provider=" vLLM ")
    settle(installed_db)
    assert placeholder(installed_db, model) == (f"Unknown vllm model {str(model)[:8]}", "vllm", False)
    # Shared: a nullable user_id stays NULL, so every user sees the row (docs/guarantees.md).
    assert installed_db.query("SELECT user_id FROM public.llm_models WHERE id = %s", (model,)) == [(None,)]
    assert installed_db.query("SELECT source FROM pgmodelnames.machine_names WHERE model_uuid = %s", (model,)) == \
        [("placeholder",)]
    if installed_db.kind == "supabase":
        # NOT NULL text columns without defaults get '' (no endpoint known).
        assert installed_db.query("SELECT base_url, model_id FROM public.llm_models WHERE id = %s", (model,)) == \
            [("", "")]
    # A second message for the same model does nothing more.
    with installed_db.connect() as conn:
        insert_message(conn, str(model))
    settle(installed_db)
    assert installed_db.value("SELECT count(*) FROM public.llm_models WHERE id = %s", (model,)) == 1


def test_known_models_and_other_providers_are_untouched(mode_db):
    installed_db = mode_db
    known = uuid.uuid4()
    base = "'', ''" if installed_db.kind == "supabase" else "NULL, NULL"
    installed_db.execute(f"INSERT INTO public.llm_models (id, name, provider, base_url, model_id) VALUES (%s, 'Known', 'vllm', {base})",
                         (known,))
    other = uuid.uuid4()
    with installed_db.connect() as conn:
        insert_message(conn, str(known))
        insert_message(conn, str(other), provider="openai")
        insert_message(conn, str(uuid.uuid4()), provider=None)
        insert_message(conn, None)
    settle(installed_db)
    assert installed_db.value("SELECT count(*) FROM public.llm_models") == 1
    assert installed_db.value("SELECT count(*) FROM public.messages") == 4


@pytest.mark.parametrize("model_id", [
    "gpt-4o-mini", "meta-llama/Llama-3.2-3B-Instruct", "x" * 10_000, "模型-🦙", "", " ",
    "'; DROP TABLE messages; --", "{fdab6388-0000-4000-8000-000000000001}",
    "FDAB6388-0000-4000-8000-00000000000Z", " fdab6388-0000-4000-8000-000000000001",
])
@pytest.mark.parametrize("mode", MODES)
def test_text_ids_that_are_not_uuids_pass_through(make_db, model_id, mode):
    db = use_mode(make_db("supabase", installed=True), mode)
    with db.connect() as conn:
        insert_message(conn, model_id)
    settle(db)
    assert db.value("SELECT model_id FROM public.messages") == model_id
    assert db.value("SELECT count(*) FROM public.llm_models") == 0


@pytest.mark.parametrize("mode", MODES)
def test_text_uuid_in_upper_case_gets_a_placeholder(make_db, mode):
    db = use_mode(make_db("supabase", installed=True), mode)
    with db.connect() as conn:
        insert_message(conn, "FDAB6388-0000-4000-8000-000000000001")
    settle(db)
    assert placeholder(db, "fdab6388-0000-4000-8000-000000000001")[0] == "Unknown vllm model fdab6388"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(model_id=st.one_of(st.none(), st.uuids().map(str),
                          st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                                  max_size=60)),
       provider=st.one_of(st.none(), st.sampled_from(["vllm", "VLLM", " vllm", "openai", ""]),
                          st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                                  max_size=20)))
def test_any_message_insert_succeeds(hypothesis_db, model_id, provider):
    with hypothesis_db.transaction(force_rollback=True):
        insert_message(hypothesis_db, model_id, provider=provider)
        assert hypothesis_db.execute("SELECT count(*) FROM public.messages").fetchone()[0] == 1


@pytest.fixture
def hypothesis_db(installed_supabase):
    with installed_supabase.connect() as conn:
        yield conn


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(model_id=st.one_of(st.none(), st.uuids().map(str), st.uuids().map(lambda u: str(u).upper()),
                          st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                                  max_size=60)),
       provider=st.one_of(st.none(), st.sampled_from(["vllm", "VLLM", " vllm", "openai", ""])))
def test_any_message_is_swept_without_error(sweep_hypothesis_db, model_id, provider):
    """Sweep mode: whatever a message holds, its insert and the sweep both succeed, and a
    covered UUID gets its placeholder."""
    conn = sweep_hypothesis_db
    with conn.transaction(force_rollback=True):
        insert_message(conn, model_id, provider=provider)
        conn.execute("SELECT * FROM pgmodelnames.sweep()")
        made = conn.execute("SELECT count(*) FROM public.llm_models").fetchone()[0]
        expected = (model_id is not None and (provider or "").strip().lower() == "vllm"
                    and conn.execute("SELECT pgmodelnames.looks_like_uuid(%s)", (model_id,)).fetchone()[0])
        assert made == (1 if expected else 0)


@pytest.fixture
def sweep_hypothesis_db(make_db):
    db = use_mode(make_db("supabase", installed=True), "sweep")
    with db.connect() as conn:
        yield conn


@pytest.mark.parametrize("shape", SHAPES)
def test_update_of_model_id_creates_a_placeholder(installed_db, shape):
    use_mode(installed_db, shape)
    model = uuid.uuid4()
    with installed_db.connect() as conn:
        insert_message(conn, None)
        conn.execute("UPDATE public.messages SET model_id = %s", (str(model),))
    assert placeholder(installed_db, model) is not None
    other = uuid.uuid4()
    with installed_db.connect() as conn:
        conn.execute("UPDATE public.messages SET model_id = %s, provider = 'openai'", (str(other),))
        assert placeholder(installed_db, other) is None
        conn.execute("UPDATE public.messages SET provider = 'vllm'")
    assert placeholder(installed_db, other) is not None


@pytest.mark.parametrize("first_read", ["SELECT 1", "SELECT count(*) FROM public.llm_models"])
@pytest.mark.parametrize("isolation", ["READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE"])
def test_concurrent_inserts_of_one_new_model(mode_db, isolation, first_read):
    installed_db = mode_db
    model = str(uuid.uuid4())
    sessions = 8
    barrier = threading.Barrier(sessions)
    errors: list[BaseException] = []
    notices: list[str] = []

    def worker():
        try:
            with installed_db.connect(autocommit=False) as conn:
                conn.add_notice_handler(lambda diag: notices.append(diag.message_primary))
                conn.execute(f"SET TRANSACTION ISOLATION LEVEL {isolation}")
                # Take the snapshot before the others commit; the second form
                # also reads all of llm_models, as an app listing models would.
                conn.execute(first_read)
                barrier.wait(timeout=30)
                insert_message(conn, model)
                conn.commit()
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    settle(installed_db)
    assert installed_db.value("SELECT count(*) FROM public.messages WHERE model_id::text = %s", (model,)) == sessions
    assert installed_db.value("SELECT count(*) FROM public.llm_models WHERE id = %s", (model,)) == 1
    # A lost race is success: the placeholder exists, so nobody is warned.
    assert [n for n in notices if "pgmodelnames" in n] == []


def test_foreign_key_is_satisfied(make_db):
    db = make_db("minimal")
    db.execute("ALTER TABLE public.messages ADD FOREIGN KEY (model_id) REFERENCES public.llm_models (id)")
    db.upgrade()
    model = uuid.uuid4()
    with db.connect() as conn:
        insert_message(conn, model)
    assert placeholder(db, model) is not None


def _statement_triggers(db) -> list[str]:
    return [r[0] for r in db.query("SELECT tgrelid::regclass::text FROM pg_trigger "
                                    "WHERE tgname = 'zz_pgmodelnames_placeholder_insert' ORDER BY 1")]


def test_partitioned_messages_in_another_schema(make_db):
    db = make_db("minimal")
    db.execute("""
        CREATE SCHEMA chat;
        CREATE TABLE chat.llm_models (LIKE public.llm_models INCLUDING ALL);
        CREATE TABLE chat.messages (
            id uuid DEFAULT gen_random_uuid(), user_id uuid, model_id uuid, provider text, content text,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (id, created_at)
        ) PARTITION BY RANGE (created_at);
        CREATE TABLE chat.messages_2025 PARTITION OF chat.messages FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        INSERT INTO chat.messages (model_id, provider, created_at)
        VALUES ('01d00000-0000-4000-8000-000000000000', 'vllm', '2025-06-01');
    """)
    assert db.cli("--schema", "chat", "upgrade").code == 0
    assert db.value("SELECT shape FROM pgmodelnames.trigger_shape()") == "statement"
    assert _statement_triggers(db) == ["chat.messages", "chat.messages_2025"]
    # Once the history has its placeholders, the app can add a foreign key;
    # the next upgrade makes the trigger a row trigger, which the key needs.
    db.execute("ALTER TABLE chat.messages ADD FOREIGN KEY (model_id) REFERENCES chat.llm_models (id)")
    assert db.cli("upgrade").code == 0
    assert db.value("SELECT shape FROM pgmodelnames.trigger_shape()") == "row"
    assert _statement_triggers(db) == []
    assert db.value("SELECT name FROM chat.llm_models WHERE id = '01d00000-0000-4000-8000-000000000000'") == \
        "Unknown vllm model 01d00000"
    db.execute("CREATE TABLE chat.messages_2026 PARTITION OF chat.messages FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')")
    model = uuid.uuid4()
    db.execute("INSERT INTO chat.messages (model_id, provider, created_at) VALUES (%s, 'vllm', '2026-11-27')", (model,))
    assert db.value("SELECT name FROM chat.llm_models WHERE id = %s", (model,)) == f"Unknown vllm model {str(model)[:8]}"
    assert db.value("SELECT count(*) FROM public.llm_models") == 0
    # Changing the covered providers re-creates the trigger on the partitioned table.
    assert db.cli("upgrade", "--providers", "vllm,ollama").code == 0
    other = uuid.uuid4()
    db.execute("INSERT INTO chat.messages (model_id, provider, created_at) VALUES (%s, 'ollama', '2026-11-27')", (other,))
    assert db.value("SELECT name FROM chat.llm_models WHERE id = %s", (other,)) == f"Unknown ollama model {str(other)[:8]}"


# --- roles, row-level security, search_path ----------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("role,user", [("authenticated", ALICE), ("service_role", None), ("postgres", None)])
def test_inserts_as_each_role(make_db, role, user, mode):
    db = use_mode(make_db("supabase", installed=True), mode)
    model = uuid.uuid4()
    with db.connect() as conn:
        as_role(conn, role, user)
        insert_message(conn, str(model), user=ALICE)
    settle(db)
    assert placeholder(db, model) is not None


@pytest.mark.parametrize("mode", MODES)
def test_insert_without_rights_on_llm_models(make_db, mode):
    db = use_mode(make_db("supabase", installed=True), mode)
    db.execute("REVOKE INSERT, UPDATE ON public.llm_models FROM authenticated")
    db.execute("DROP POLICY llm_models_insert ON public.llm_models")
    db.execute("CREATE POLICY llm_models_insert ON public.llm_models FOR INSERT WITH CHECK (false)")
    model = uuid.uuid4()
    with db.connect() as conn:
        as_role(conn, "authenticated", BOB)
        insert_message(conn, str(model), user=BOB)
        settle(db)
        # Bob sees his own placeholder through the view.
        assert conn.execute("SELECT display_name FROM public.model_display_names WHERE id = %s",
                            (model,)).fetchone()[0] == f"Unknown vllm model {str(model)[:8]}"


@pytest.mark.parametrize("shape", SHAPES)
def test_search_path_hijack_has_no_effect(make_db, shape):
    db = use_mode(make_db("supabase", installed=True), shape)
    db.execute("CREATE SCHEMA evil AUTHORIZATION authenticated")
    with db.connect() as conn:
        as_role(conn, "authenticated", ALICE)
        conn.execute("""
            CREATE TABLE evil.llm_models (id uuid, name text, provider text);
            CREATE FUNCTION evil.lower(text) RETURNS text LANGUAGE sql AS $$ SELECT 'vllm' $$;
            CREATE FUNCTION evil.btrim(text) RETURNS text LANGUAGE sql AS $$ SELECT 'vllm' $$;
            CREATE FUNCTION evil.to_jsonb(anyelement) RETURNS jsonb LANGUAGE sql AS $$ SELECT '{}'::jsonb $$;
            CREATE FUNCTION evil.uuid_eq(uuid, uuid) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;
            CREATE OPERATOR evil.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = evil.uuid_eq);
            SET search_path = evil, pg_catalog, public;
        """)
        model = uuid.uuid4()
        insert_message(conn, str(model))
        conn.execute("INSERT INTO public.messages (user_id, model_id, provider) VALUES (%s, %s, 'openai')",
                     (ALICE, str(uuid.uuid4())))
        assert conn.execute("SELECT count(*) FROM evil.llm_models").fetchone()[0] == 0
    assert placeholder(db, model) == (f"Unknown vllm model {str(model)[:8]}", "vllm", False)
    assert db.value("SELECT count(*) FROM public.llm_models") == 1


def test_internal_functions_are_not_callable_by_app_roles(make_db):
    db = make_db("supabase", installed=True)
    callable_by_app = db.query("""
        SELECT p.oid::regprocedure::text, r.rolname
          FROM pg_proc p CROSS JOIN (VALUES ('anon'), ('authenticated'), ('service_role')) AS r(rolname)
         WHERE p.pronamespace = 'pgmodelnames'::regnamespace
           AND (p.prorettype = 'trigger'::regtype OR p.prosecdef OR p.proname IN
                ('execute_with_lock_retries', 'install_placeholder_trigger', 'create_missing_placeholders',
                 'set_covered_providers', 'placeholder_insert_sql', 'sweep', 'set_placeholder_mode',
                 'schedule_sweep', 'unschedule_sweep', 'sweep_status', 'create_placeholders_where',
                 'create_placeholders_by_index', 'uuid_shape_test'))
           AND has_function_privilege(r.rolname, p.oid, 'EXECUTE')""")
    assert callable_by_app == []
    assert db.value("SELECT has_schema_privilege('authenticated', 'pgmodelnames', 'USAGE')") is False
    with db.connect() as conn:
        as_role(conn, "authenticated", ALICE)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT pgmodelnames.create_placeholder(gen_random_uuid(), 'vllm', NULL)")


@pytest.mark.parametrize("shape", SHAPES)
def test_a_failing_placeholder_never_fails_the_message(make_db, shape):
    db = use_mode(make_db("supabase", installed=True), shape)
    # The app adds a CHECK the placeholder cannot meet: the message still goes in.
    db.execute("ALTER TABLE public.llm_models ADD CONSTRAINT strict_url CHECK (base_url <> '')")
    model = uuid.uuid4()
    with db.connect() as conn:
        notices = []
        conn.add_notice_handler(lambda d: notices.append(d.message_primary))
        insert_message(conn, str(model))
    assert db.value("SELECT count(*) FROM public.messages") == 1
    assert placeholder(db, model) is None
    warned = "no placeholder for model" if shape == "row" else "1 placeholder(s) could not be created"
    assert [n for n in notices if "pgmodelnames" in n] == [next(n for n in notices if warned in n)]


# --- history ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_history_gets_placeholders_once(app_db, mode):
    placeholders = "sweep" if mode == "sweep" else "trigger"
    hot = uuid.uuid4()
    cold = uuid.uuid4()
    app_db.execute("""
        INSERT INTO public.messages (user_id, model_id, provider)
        SELECT %s, %s, CASE WHEN g %% 2 = 0 THEN 'vllm' ELSE 'VLLM ' END FROM generate_series(1, 3000) AS g
    """, (ALICE, str(hot)))
    app_db.execute("INSERT INTO public.messages (user_id, model_id, provider) VALUES (%s, %s, 'vllm'), (%s, %s, 'openai')",
                   (ALICE, str(cold), ALICE, str(uuid.uuid4())))
    if app_db.kind == "supabase":
        app_db.execute("INSERT INTO public.messages (user_id, model_id, provider) VALUES (%s, 'gpt-4o-mini', 'vllm')",
                       (ALICE,))
    before = app_db.query("SELECT t::text FROM public.messages t ORDER BY 1")
    app_db.upgrade("--placeholders", placeholders)
    use_mode(app_db, mode)
    assert app_db.value("SELECT count(*) FROM public.llm_models") == 2
    assert placeholder(app_db, hot)[1] == "vllm"
    assert app_db.value("SELECT pgmodelnames.create_missing_placeholders()") == 0
    assert app_db.value("SELECT created FROM pgmodelnames.sweep(full => true)") == 0
    app_db.cli("downgrade", "base")
    app_db.upgrade("--placeholders", placeholders)
    use_mode(app_db, mode)
    assert app_db.value("SELECT count(*) FROM public.llm_models") == 2
    assert app_db.query("SELECT t::text FROM public.messages t ORDER BY 1") == before


def test_covered_providers_can_be_changed(mode_db):
    installed_db = mode_db
    ollama_model = uuid.uuid4()
    with installed_db.connect() as conn:
        insert_message(conn, str(ollama_model), provider="ollama")
    settle(installed_db)
    assert placeholder(installed_db, ollama_model) is None
    result = installed_db.cli("upgrade", "--providers", "vllm, Ollama")
    assert result.code == 0, result.err
    # The history of the newly covered provider is filled, and new messages are covered.
    assert placeholder(installed_db, ollama_model)[0] == f"Unknown ollama model {str(ollama_model)[:8]}"
    another = uuid.uuid4()
    with installed_db.connect() as conn:
        insert_message(conn, str(another), provider="ollama")
    settle(installed_db)
    assert placeholder(installed_db, another) is not None
    assert installed_db.query("SELECT provider FROM pgmodelnames.covered_providers ORDER BY 1") == \
        [("ollama",), ("vllm",)]
