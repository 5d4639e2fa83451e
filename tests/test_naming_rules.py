"""Every copy of a naming rule gives the same answer on the same inputs.

The SQL functions of sql/0001_schema are the truth: pgmodelnames.looks_like_uuid,
trimmed, is_usable_name, normalized_provider and placeholder_name. Their copies:

  names.py                               looks_like_uuid, trimmed, is_usable_name
                                         (served_models.usable), and human_name, which
                                         must only accept names the SQL finds usable
  sql/diagnostics/models_by_state.sql    trimmed, is_usable_name, looks_like_uuid
                                         and placeholder_name, spelled out (the
                                         doctor runs before install)
  sql/diagnostics/unknown_model_ids.sql  looks_like_uuid(trimmed(id)), spelled out
  sql/rename/placeholder_name.sql        placeholder_name, spelled out (rename
                                         before install)

There is no Python copy of placeholder_name(): lower() and [[:cntrl:]] follow the
database's LC_CTYPE, which str.lower() cannot mirror (on a C.UTF-8 server lower('ΣΑΣ')
is 'σασ', str.lower() gives 'σας'; under C only ASCII changes), so the server computes it.

Each input is used as a name, as a model id and as a provider. The diagnostics
run as the doctor runs them, on rows inserted into a scratch schema (plain
tables: no guard or trigger rewrites what is inserted), and their
classification is compared with the one the installed functions give.
"""

from __future__ import annotations

import json

import uuid

import pytest
from psycopg.rows import dict_row

from pgmodelnames import names, served_models, sqlfiles

ROW = uuid.UUID("0badcafe-0000-4000-8000-00000000000a")  # the llm_models row an input names
U = "fdab6388-0000-4000-8000-000000000001"
SCRATCH = "naming_rules"

INPUTS = [
    pytest.param(None, id="NULL"),
    pytest.param("", id="empty"),
    pytest.param("   ", id="spaces"),
    pytest.param("\t\r\n\f", id="ascii-whitespace"),
    pytest.param("\t\v x \v", id="vertical-tab"),
    pytest.param("vicuna-13b-v", id="v-at-both-ends"),
    pytest.param("\u00a0", id="no-break-space"),
    pytest.param("\u200b", id="zero-width-space"),
    pytest.param("\u3000", id="ideographic-space"),
    pytest.param("\ufeff", id="BOM"),
    pytest.param("\u00ad\u2060", id="soft-hyphen-word-joiner"),
    pytest.param("\u202e", id="bidi-override-alone"),
    pytest.param("\u202egpt-4o", id="bidi-override-then-text"),
    pytest.param("\u2066x\u2069", id="bidi-isolates"),
    pytest.param("\x01\x7f", id="ascii-controls"),
    pytest.param("\u0085", id="C1-control-NEL"),
    pytest.param("\u0301", id="lone-combining-mark"),
    pytest.param("Llama 3", id="plain"),
    pytest.param("  Llama 3  ", id="surrounding-spaces"),
    pytest.param("\u00a0\ufeffLlama 3\u3000\u200b", id="surrounding-invisible"),
    pytest.param("Lla\u0301ma\u0308 3", id="combining-marks"),
    pytest.param("🦙 模型", id="emoji-cjk"),
    pytest.param(U, id="uuid"),
    pytest.param(U.upper(), id="uuid-upper"),
    pytest.param(U.replace("-", ""), id="uuid-unhyphenated"),
    pytest.param(U.replace("-", "").upper(), id="uuid-unhyphenated-upper"),
    pytest.param("fdab6388-00004000-8000000000000001", id="uuid-some-hyphens"),
    pytest.param(f"  {U}\t", id="uuid-surrounding-whitespace"),
    pytest.param(f"\u00a0{U}\u200b", id="uuid-surrounding-invisible"),
    pytest.param(f"{U.replace('-', '')}\n", id="uuid-unhyphenated-newline"),
    pytest.param("fdab6388000040008000000000000001"[:31], id="31-hex"),
    pytest.param("fdab6388000040008000000000000001" + "0", id="33-hex"),
    pytest.param(U + "0", id="37-chars"),
    pytest.param("fdab6388--0000-4000-8000-000000000001", id="37-chars-double-hyphen"),
    pytest.param("fdab-63880000-4000-8000-000000000001", id="hyphens-misplaced"),
    pytest.param(U[:-1] + "g", id="uuid-with-g"),
    pytest.param(U[:-1] + "\u0661", id="uuid-arabic-digit"),
    pytest.param(U.replace("a", "\uff41"), id="uuid-fullwidth-a"),
    pytest.param("Unknown vllm model 0badcafe", id="own-placeholder"),
    pytest.param(" Unknown vllm model 0badcafe\u00a0", id="own-placeholder-padded"),
    pytest.param("Unknown vllm model fdab6388", id="other-placeholder"),
    pytest.param("vllm", id="provider"),
    pytest.param("ollama", id="provider-no-v"),
    pytest.param(" OLLama ", id="provider-padded-mixed-case"),
    pytest.param("\tollama\n", id="provider-tab-newline"),
    pytest.param("o\x01ll\x1bama\x7f", id="provider-controls"),
    pytest.param("ollama\u0085", id="provider-C1-control"),
    pytest.param("ÖLLAMA", id="provider-non-ascii"),
    pytest.param("ΣΑΣ", id="provider-final-sigma"),
    pytest.param("İSTANBUL", id="provider-dotted-I"),
    pytest.param("ǅ", id="provider-titlecase-digraph"),
    pytest.param("ＶＬＬＭ", id="provider-fullwidth"),
    pytest.param("P" * 50, id="provider-50-chars"),
    pytest.param("É" * 45, id="provider-45-non-ascii"),
]


@pytest.fixture
def rules_db(make_db):
    """An installed database, plus a scratch schema with plain llm_models and messages tables."""
    db = make_db("minimal", installed=True)
    db.execute(f"""
        CREATE SCHEMA {SCRATCH};
        CREATE TABLE {SCRATCH}.llm_models (id uuid PRIMARY KEY, name text, provider text);
        CREATE TABLE {SCRATCH}.messages (model_id text, provider text);
    """)
    return db


def diagnostic(conn, name: str, providers: str = "", use_index: bool = False) -> list[dict]:
    """Run one sql/diagnostics file on the scratch schema, as the doctor runs it."""
    conn.execute("SELECT set_config('pgmodelnames.doctor_providers', %s, true), "
                 "set_config('pgmodelnames.doctor_use_index', %s, true)", [providers, "on" if use_index else "off"])
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sqlfiles.render(f"diagnostics/{name}.sql", SCRATCH)).fetchall()


def truth_state(truth: dict) -> str:
    """models_by_state's classification of a vllm row named by the input, from the installed functions."""
    if truth["uuid_trimmed"]:
        return "uuid_name"
    if not truth["usable"]:
        return "missing"
    if truth["trimmed"] == truth["own_placeholder"]:
        return "placeholder"
    return "named"


@pytest.mark.parametrize("value", INPUTS)
def test_every_copy_of_a_naming_rule_agrees(rules_db, value):
    with rules_db.connect() as conn:
        conn.row_factory = dict_row
        truth = conn.execute("""
            SELECT pgmodelnames.looks_like_uuid(%(v)s) AS looks_like_uuid,
                   pgmodelnames.trimmed(%(v)s) AS trimmed,
                   pgmodelnames.is_usable_name(%(v)s) AS usable,
                   pgmodelnames.looks_like_uuid(pgmodelnames.trimmed(%(v)s)) AS uuid_trimmed,
                   pgmodelnames.normalized_provider(%(v)s) AS provider,
                   pgmodelnames.placeholder_name(%(id)s, %(v)s) AS placeholder,
                   pgmodelnames.placeholder_name(%(id)s, 'vllm') AS own_placeholder,
                   E'\\u0085' ~ '[[:cntrl:]]' AS c1_is_control
            """, {"v": value, "id": ROW}).fetchone()

        # (b) the Python mirrors
        if value is not None:
            assert names.looks_like_uuid(value) == truth["looks_like_uuid"]
            assert names.trimmed(value) == truth["trimmed"]
            assert names.looks_like_uuid(names.trimmed(value)) == truth["uuid_trimmed"]
        if value is not None and any(0x80 <= ord(ch) <= 0x9F for ch in value) and not truth["c1_is_control"]:
            # Under LC_CTYPE C, PostgreSQL counts C1 controls as visible and Python does not
            # (names.is_usable_name says so); the names backfill checks never hold one.
            assert not any(0x80 <= ord(ch) <= 0x9F for ch in names.clean_text(value, 200))
        else:
            assert names.is_usable_name(value) == truth["usable"]
            assert served_models.usable(value) == truth["usable"]
        if value is not None:
            try:
                accepted = names.human_name(value)
            except names.BadName:
                pass
            else:  # a name rename accepts is one the SQL shows as it was typed, trimmed
                assert truth["usable"] and accepted == truth["trimmed"]

        # (c) the spelled-out copy in sql/rename/placeholder_name.sql
        spelled = conn.execute(sqlfiles.render("rename/placeholder_name.sql"), {"id": ROW, "provider": value})
        assert spelled.fetchone()["placeholder_name"] == truth["placeholder"]

        # (c) models_by_state.sql: the input as the name of a vllm row...
        with conn.transaction(force_rollback=True):
            conn.execute(f"INSERT INTO {SCRATCH}.llm_models VALUES (%s, %s, 'vllm')", [ROW, value])
            rows = diagnostic(conn, "models_by_state")
        assert [(r["provider"], r["state"], r["models"], r["examples"]) for r in rows] == \
            [("vllm", truth_state(truth), 1, [str(ROW)])]

        # ... and as the provider of a row named by its placeholder name, that provider covered.
        if value is not None:
            with conn.transaction(force_rollback=True):
                conn.execute(f"INSERT INTO {SCRATCH}.llm_models VALUES (%s, %s, %s)", [ROW, truth["placeholder"], value])
                rows = diagnostic(conn, "models_by_state", providers=value)
            expected = [] if truth["provider"] is None else [(truth["provider"], "placeholder", 1)]
            assert [(r["provider"], r["state"], r["models"]) for r in rows] == expected

        # (c) unknown_model_ids.sql: the input as a model id in a TEXT messages.model_id, both ways of reading messages.
        if value is not None:
            with conn.transaction(force_rollback=True):
                conn.execute(f"INSERT INTO {SCRATCH}.messages VALUES (%s, 'vllm')", [value])
                shown = str(uuid.UUID(truth["trimmed"])) if truth["uuid_trimmed"] else truth["trimmed"]
                for use_index in (False, True):
                    rows = diagnostic(conn, "unknown_model_ids", use_index=use_index)
                    assert [(r["provider"], r["covered"], r["is_uuid"], r["model_ids"], r["messages"], r["examples"])
                            for r in rows] == [("vllm", True, truth["uuid_trimmed"], 1, 1,
                                                [{"model_id": shown, "messages": 1}])], f"use_index={use_index}"
                if truth["uuid_trimmed"]:  # a row for that UUID: the id is known
                    conn.execute(f"INSERT INTO {SCRATCH}.llm_models VALUES (%s, 'x', 'vllm')", [shown])
                    for use_index in (False, True):
                        assert diagnostic(conn, "unknown_model_ids", use_index=use_index) == [], \
                            f"use_index={use_index}"


def test_trimmed_strips_white_space_only(installed_minimal):
    found = installed_minimal.query(
        "SELECT pgmodelnames.trimmed('vicuna-13b-v'), pgmodelnames.trimmed(E'\\x0b x \\x0b'), "
        "pgmodelnames.machine_name(gen_random_uuid(), 'vllm', 'vllm-x', NULL)")
    assert found == [("vicuna-13b-v", "x", "vllm-x")]


@pytest.mark.unit
def test_inputs_cover_both_answers_of_each_rule():
    """The table above exercises each rule both ways (so a copy that always says yes or no fails)."""
    values = [p.values[0] for p in INPUTS if p.values[0] is not None]
    assert {names.looks_like_uuid(v) for v in values} == {True, False}
    assert {names.looks_like_uuid(names.trimmed(v)) and not names.looks_like_uuid(v) for v in values} == {True, False}
    assert {names.is_usable_name(v) for v in values} == {True, False}
    assert {names.trimmed(v) == v for v in values} == {True, False}


@pytest.mark.unit
def test_clean_text():
    assert names.clean_text("a\x00b\x07c\nd\te\u202eevil\x9b", 100) == "abc d eevil"
    assert names.clean_text("模型 🚀 ü", 100) == "模型 🚀 ü"
    assert names.clean_text("x" * 50, 10) == "x" * 9 + "…"


PATHS = ["/models/qwen2.5-7b-instruct", "/models/qwen2.5-7b-instruct/", "./models/tiny", "../tiny", "~/m/llama",
         "/root/.cache/huggingface/hub/models--meta-llama--Llama-3.2-3B-Instruct/snapshots/"
         "0cb88a4f764b7a12671c53f0838cd831a0843b95",
         "models--Qwen--Qwen2.5-7B-Instruct/snapshots/abc/", "/data/models--a--b--c/snapshots/1",
         "/", "//", "tiny-llama", "meta-llama/Llama-3.1-8B", "relative/path", "", " /models/x "]


@pytest.mark.parametrize("served", PATHS)
def test_the_readable_id_of_a_path_is_one_rule(installed_minimal, served):
    """pgmodelnames.readable_model_id() (the view and the guard) = served_models.readable_id() (backfill)."""
    sql = installed_minimal.value("SELECT pgmodelnames.readable_model_id(%s)", (served,))
    assert served_models.readable_id(served) == sql


def test_readable_ids_as_names(installed_minimal):
    db = installed_minimal
    db.execute("""INSERT INTO public.llm_models (id, name, provider, model_id) VALUES
                  ('aaaaaaaa-0000-4000-8000-000000000001', NULL, 'vllm', '/models/qwen2.5-7b-instruct'),
                  ('aaaaaaaa-0000-4000-8000-000000000002', NULL, 'vllm',
                   '/hub/models--meta-llama--Llama-3.2-3B-Instruct/snapshots/0cb88a4f764b7a12671c53f0838cd831a0843b95')""")
    assert db.query("SELECT display_name, model_id FROM public.model_display_names ORDER BY id") == [
        ("qwen2.5-7b-instruct", "/models/qwen2.5-7b-instruct"),
        ("meta-llama/Llama-3.2-3B-Instruct",
         "/hub/models--meta-llama--Llama-3.2-3B-Instruct/snapshots/0cb88a4f764b7a12671c53f0838cd831a0843b95")]


@pytest.mark.parametrize("how", ["trigger", "history pass"])
def test_unknown_models_sharing_their_first_digits_get_distinct_names(make_db, how):
    db = make_db("supabase", installed=how == "trigger")
    models = ["fdab6388-0000-4000-8000-000000001366", "FDAB6388-0000-4000-8000-000000001399",
              "fdab6388-1111-4000-8000-000000000001"]
    for model in models:
        db.execute("INSERT INTO public.messages (model_id, provider) VALUES (%s, 'vllm')", (model,))
    if how == "history pass":
        assert db.cli("upgrade").code == 0
    shown = db.query("SELECT display_name, is_placeholder FROM public.model_display_names ORDER BY id")
    # The first by UUID keeps 8 digits; each later one carries one more group of its UUID.
    assert shown == [("Unknown vllm model fdab6388", True), ("Unknown vllm model fdab6388-0000", True),
                     ("Unknown vllm model fdab6388-1111", True)]
    # The doctor counts every one of them as a placeholder, whatever its width.
    report = json.loads(db.cli("doctor", "--json").out)
    assert [(m["state"], m["models"]) for m in report["models"]] == [("placeholder", 3)]
