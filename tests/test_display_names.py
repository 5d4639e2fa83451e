"""The view model_display_names, the NOT NULL guard and model_display_name()."""

from __future__ import annotations

import re
import unicodedata
import uuid

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support import ALICE, BOB, as_role, seed_problem

UUID_RE = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.I)


def display_names(db) -> dict[str, tuple[str, bool]]:
    return {str(i): (n, p) for i, n, p in db.query(
        "SELECT id, display_name, is_placeholder FROM public.model_display_names")}


def test_problem_data_gets_readable_distinct_names(app_db):
    seed_problem(app_db)
    app_db.upgrade()
    names = display_names(app_db)
    assert names == {
        "11111111-1111-4111-8111-111111111111": ("Unknown vllm model 11111111", True),
        "22222222-2222-4222-8222-222222222222": ("llama-3-8b", False),
        "33333333-3333-4333-8333-333333333333": ("Unknown vllm model 33333333", True),
        "44444444-4444-4444-8444-444444444444": ("GPT-4o", False),
        "fdab6388-0000-4000-8000-000000000001": ("Unknown vllm model fdab6388", True),
        "0badcafe-0000-4000-8000-000000000002": ("Unknown vllm model 0badcafe", True),
    }
    shown = [n for n, _ in names.values()]
    assert len(shown) == len(set(shown))
    assert not any(UUID_RE.match(n) for n in shown)
    # The table itself now has a name everywhere, and the filled names are machine names.
    assert app_db.value("SELECT count(*) FROM public.llm_models WHERE name IS NULL OR btrim(name) = ''") == 0
    recorded = dict(app_db.query("SELECT model_uuid::text, source FROM pgmodelnames.machine_names"))
    assert recorded["22222222-2222-4222-8222-222222222222"] == "guard"
    assert recorded["fdab6388-0000-4000-8000-000000000001"] == "placeholder"
    assert "44444444-4444-4444-8444-444444444444" not in recorded


def test_analytics_join_uses_the_primary_key(make_db):
    installed_db = make_db("minimal", installed=True)
    join = "m.model_id = v.id"
    with installed_db.connect() as conn:
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(r[0] for r in conn.execute(
            f"EXPLAIN SELECT v.display_name FROM public.messages m JOIN public.model_display_names v ON {join} "
            "WHERE m.id = '00000000-0000-4000-8000-000000000000'"))
        assert "llm_models_pkey" in plan
        view_plan = "\n".join(r[0] for r in conn.execute("EXPLAIN SELECT * FROM public.model_display_names"))
        assert "messages" not in view_plan


def test_view_is_security_invoker_and_commented(installed_db):
    options = installed_db.value("SELECT reloptions FROM pg_class WHERE oid = 'public.model_display_names'::regclass")
    assert options == ["security_invoker=true"]
    assert "row-level security" in installed_db.value(
        "SELECT obj_description('public.model_display_names'::regclass, 'pg_class')")
    uncommented = installed_db.query("""
        SELECT a.attname FROM pg_attribute a
         WHERE a.attrelid = 'public.model_display_names'::regclass AND a.attnum > 0
           AND col_description(a.attrelid, a.attnum) IS NULL""")
    assert uncommented == []


def test_app_insert_and_update_with_missing_name_succeed(installed_db):
    extra = ", base_url, model_id" if installed_db.kind == "supabase" else ""
    values = ", '', ''" if installed_db.kind == "supabase" else ""
    new_id = uuid.uuid4()
    installed_db.execute(f"INSERT INTO public.llm_models (id, name, provider{extra}) VALUES (%s, NULL, 'vllm'{values})",
                         (new_id,))
    assert installed_db.value("SELECT name FROM public.llm_models WHERE id = %s", (new_id,)) == \
        f"Unknown vllm model {str(new_id)[:8]}"
    installed_db.execute("UPDATE public.llm_models SET name = '', model_id = 'qwen2.5-7b' WHERE id = %s", (new_id,))
    assert installed_db.value("SELECT name FROM public.llm_models WHERE id = %s", (new_id,)) == "qwen2.5-7b"
    installed_db.execute("UPDATE public.llm_models SET name = %s WHERE id = %s", (str(new_id), new_id))
    assert installed_db.value("SELECT name FROM public.llm_models WHERE id = %s", (new_id,)) == "qwen2.5-7b"


def test_placeholder_name_upgraded_when_model_id_arrives(installed_db):
    new_id = uuid.uuid4()
    table_id = "model_id" if installed_db.kind == "minimal" else "model_id"
    installed_db.execute(
        "INSERT INTO public.messages (model_id, provider) VALUES (%s, 'vllm')",
        (new_id if installed_db.kind == "minimal" else str(new_id),))
    installed_db.execute(f"UPDATE public.llm_models SET {table_id} = 'mistral-7b' WHERE id = %s", (new_id,))
    assert display_names(installed_db)[str(new_id)] == ("mistral-7b", False)


def test_human_names_are_never_changed(app_db):
    seed_problem(app_db)
    app_db.execute("UPDATE public.llm_models SET name = '  My Llama  ' WHERE id = '22222222-2222-4222-8222-222222222222'")
    app_db.upgrade()
    assert app_db.value("SELECT name FROM public.llm_models WHERE id = '22222222-2222-4222-8222-222222222222'") == \
        "  My Llama  "
    assert display_names(app_db)["22222222-2222-4222-8222-222222222222"] == ("My Llama", False)
    app_db.execute("UPDATE public.llm_models SET model_id = 'other' WHERE id = '22222222-2222-4222-8222-222222222222'")
    assert app_db.value("SELECT name FROM public.llm_models WHERE id = '22222222-2222-4222-8222-222222222222'") == \
        "  My Llama  "
    app_db.cli("downgrade", "base")
    app_db.upgrade()
    assert app_db.value("SELECT name FROM public.llm_models WHERE id = '22222222-2222-4222-8222-222222222222'") == \
        "  My Llama  "


def test_clean_table_needs_no_backfill(app_db):
    app_db.execute("INSERT INTO public.llm_models (name, model_id, provider, base_url) VALUES ('A', 'a', 'vllm', 'x')")
    app_db.upgrade()
    assert app_db.value("SELECT count(*) FROM pgmodelnames.machine_names") == 0
    assert app_db.query("SELECT name FROM public.llm_models") == [("A",)]


def test_downgrade_restores_nullability(make_db):
    nullable = make_db("minimal")
    nullable.upgrade()
    assert nullable.value("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'public.llm_models'::regclass AND attname = 'name'")
    assert nullable.cli("downgrade", "base").code == 0
    assert not nullable.value("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'public.llm_models'::regclass AND attname = 'name'")

    strict = make_db("minimal")
    strict.execute("ALTER TABLE public.llm_models ALTER COLUMN name SET NOT NULL")
    strict.upgrade()
    strict.cli("downgrade", "base")
    assert strict.value("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'public.llm_models'::regclass AND attname = 'name'")


def test_reinstall_recognises_placeholder_names_as_machine_names(installed_db):
    model = uuid.uuid4()
    installed_db.execute("INSERT INTO public.messages (model_id, provider) VALUES (%s, 'vllm')",
                         (model if installed_db.kind == "minimal" else str(model),))
    installed_db.cli("uninstall")
    installed_db.upgrade()
    assert installed_db.query("SELECT name, source FROM pgmodelnames.machine_names WHERE model_uuid = %s", (model,)) == \
        [(f"Unknown vllm model {str(model)[:8]}", "placeholder")]
    assert display_names(installed_db)[str(model)][1] is True


def test_optional_columns_may_be_missing(make_db):
    db = make_db("minimal")
    db.execute("ALTER TABLE public.llm_models DROP COLUMN served_model_name, DROP COLUMN enabled, DROP COLUMN user_id,"
               " DROP COLUMN model_id")
    db.execute("INSERT INTO public.llm_models (id, name, provider) VALUES ('55555555-5555-4555-8555-555555555555', NULL, 'vllm')")
    db.upgrade()
    assert display_names(db)["55555555-5555-4555-8555-555555555555"] == ("Unknown vllm model 55555555", True)
    assert db.query("SELECT model_id, served_model_name FROM public.model_display_names") == [(None, None)]
    db.execute("INSERT INTO public.messages (model_id, provider) VALUES ('66666666-6666-4666-8666-666666666666', 'vllm')")
    assert "66666666-6666-4666-8666-666666666666" in display_names(db)


# --- row-level security (Supabase schema) -------------------------------------------------


@pytest.fixture
def supabase_models(installed_supabase):
    db = installed_supabase
    db.execute(f"""
        INSERT INTO public.llm_models (id, user_id, name, provider, base_url, model_id) VALUES
          ('a0000000-0000-4000-8000-00000000000a', '{ALICE}', 'Alice secret model', 'vllm', '', ''),
          ('b0000000-0000-4000-8000-00000000000b', '{BOB}', NULL, 'vllm', '', ''),
          ('c0000000-0000-4000-8000-00000000000c', NULL, 'Global model', 'openai', 'https://x', 'gpt')
    """)
    return db


@pytest.mark.parametrize("role,user,visible", [
    ("authenticated", ALICE, {"Alice secret model", "Global model"}),
    ("authenticated", BOB, {"Unknown vllm model b0000000", "Global model"}),
    ("anon", None, {"Global model"}),
])
def test_view_applies_row_level_security(supabase_models, role, user, visible):
    with supabase_models.connect() as conn:
        as_role(conn, role, user)
        names = {r[0] for r in conn.execute("SELECT display_name FROM public.model_display_names")}
    assert names == visible


@pytest.mark.parametrize("role,user,expected", [
    ("authenticated", ALICE, "Alice secret model"),
    ("authenticated", BOB, "Unknown vllm model a0000000"),
    ("anon", None, "Unknown model a0000000"),
])
def test_model_display_name_reveals_nothing_hidden(supabase_models, role, user, expected):
    with supabase_models.connect() as conn:
        as_role(conn, role, user)
        provider = "vllm" if user == BOB else None
        got = conn.execute("SELECT public.model_display_name('a0000000-0000-4000-8000-00000000000a'::uuid, %s)",
                           (provider,)).fetchone()[0]
        assert got == expected
        text_forms = conn.execute("""
            SELECT public.model_display_name('gpt-4o-mini'), public.model_display_name('  llama 3  '),
                   public.model_display_name(' c0000000-0000-4000-8000-00000000000c '),
                   public.model_display_name(NULL::text), public.model_display_name('')""").fetchone()
        assert text_forms == ("gpt-4o-mini", "llama 3", "Global model", None, "Unknown model (blank id)")
        # The bookkeeping is not readable by app roles at all.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM pgmodelnames.machine_names")


def test_model_display_name_in_group_by(supabase_models):
    supabase_models.execute(f"""
        INSERT INTO public.messages (user_id, model_id, provider, latency_ms) VALUES
          ('{ALICE}', 'a0000000-0000-4000-8000-00000000000a', 'vllm', 100),
          ('{ALICE}', 'a0000000-0000-4000-8000-00000000000a', 'vllm', 300),
          ('{ALICE}', 'gpt-4o-mini', 'openai', 50)""")
    with supabase_models.connect() as conn:
        as_role(conn, "authenticated", ALICE)
        rows = conn.execute("""
            SELECT public.model_display_name(model_id, provider) AS model, count(*), avg(latency_ms)::int
              FROM (SELECT model_id, provider, count(*) OVER () , latency_ms FROM public.messages) m
             GROUP BY model_id, provider ORDER BY 1""").fetchall()
    assert rows == [("Alice secret model", 2, 200), ("gpt-4o-mini", 1, 50)]


def test_app_roles_keep_writing_their_registry(supabase_models):
    with supabase_models.connect() as conn:
        as_role(conn, "authenticated", ALICE)
        conn.execute(f"""INSERT INTO public.llm_models (id, user_id, name, provider, base_url, model_id)
                         VALUES ('a1000000-0000-4000-8000-00000000000a', '{ALICE}', NULL, 'vllm', '', 'phi-3')""")
        conn.execute(f"""INSERT INTO public.llm_models (id, user_id, name, provider, base_url, model_id)
                         VALUES ('a2000000-0000-4000-8000-00000000000a', '{ALICE}', '', 'vllm', '', '')""")
        conn.execute("UPDATE public.llm_models SET name = NULL WHERE id = 'a0000000-0000-4000-8000-00000000000a'")
        rows = dict(conn.execute("SELECT id::text, name FROM public.llm_models WHERE user_id = auth.uid()").fetchall())
    assert rows == {
        "a1000000-0000-4000-8000-00000000000a": "phi-3",
        "a2000000-0000-4000-8000-00000000000a": "Unknown vllm model a2000000",
        "a0000000-0000-4000-8000-00000000000a": "Unknown vllm model a0000000",
    }


# --- property: the name resolution ---------------------------------------------------------

texts = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "\t", "   ", "Llama 3", " spaced ", "🦙 émoji"]),
    st.uuids().map(str),
    st.uuids().map(lambda u: str(u).upper()),
    st.uuids().map(lambda u: u.hex),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40),
    st.text(alphabet="ab ", min_size=2000, max_size=3000),
)


# The same characters as pgmodelnames.trimmed() and is_usable_name() in SQL.
from pgmodelnames.names import TRIM_CHARS as TRIM  # noqa: E402 (the one copy of the set)
INVISIBLE = set("\u00a0\u00ad\u1680\u180e\u3000\ufeff") | {chr(c) for c in range(0x2000, 0x2010)} \
    | {chr(c) for c in range(0x2028, 0x2030)} | {chr(c) for c in range(0x205F, 0x2065)}


def visible(ch: str) -> bool:
    return not (ch.isspace() or unicodedata.category(ch) == "Cc" or ch in INVISIBLE)


def usable(value: str | None) -> bool:
    return (value is not None and any(visible(c) for c in value)
            and not UUID_RE.match(value.strip(TRIM)))


@pytest.fixture
def property_db(installed_minimal):
    with installed_minimal.connect() as conn:
        yield conn


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=texts, model_id=texts, served=texts, provider=st.one_of(st.none(), st.sampled_from(["vllm", " vLLM ", "", "ollama"])),
       own_uuid_as_name=st.booleans())
def test_display_name_property(property_db, name, model_id, served, provider, own_uuid_as_name):
    row_id = uuid.uuid4()
    if own_uuid_as_name:
        name = str(row_id)
    with property_db.transaction(force_rollback=True):
        property_db.execute(
            "INSERT INTO public.llm_models (id, name, model_id, served_model_name, provider) VALUES (%s, %s, %s, %s, %s)",
            (row_id, name, model_id, served, provider))
        shown, placeholder = property_db.execute(
            "SELECT display_name, is_placeholder FROM public.model_display_names WHERE id = %s", (row_id,)).fetchone()
        by_function = property_db.execute("SELECT public.model_display_name(%s::uuid)", (row_id,)).fetchone()[0]
    assert any(visible(c) for c in shown)
    assert not UUID_RE.match(shown.strip(TRIM))
    assert by_function == shown
    if usable(name) and not name.strip(TRIM).startswith("Unknown "):
        assert shown == name.strip(TRIM)
    elif usable(model_id):
        assert shown == model_id.strip(TRIM)
    if not (usable(name) or usable(model_id) or usable(served)):
        assert placeholder and str(row_id)[:8] in shown
