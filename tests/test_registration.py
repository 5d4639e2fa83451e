"""Whose a placeholder is, and what happens when someone registers its model
by hand. A placeholder belongs to nobody where llm_models.user_id allows it:
every user whose messages name the model sees it (under the Supabase
schema's policies, which show rows without an owner), none can claim it
away from the others, and a hand-written registration INSERT takes its
place, as the owner or as an `authenticated` user. Where a FOREIGN KEY makes
that unsafe, a plain INSERT fails with a unique violation that says what it
is and what works, and the app's upsert still works."""

from __future__ import annotations

import psycopg
import pytest

from support import ALICE, BOB, as_role

MODEL = "c0ffee00-0000-4000-8000-0000000000aa"


def message(db, user: str | None = None, model: str = MODEL, provider: str = "vllm", role: str | None = None):
    with db.connect() as conn:
        if role:
            as_role(conn, role, user)
        conn.execute("INSERT INTO public.messages (user_id, model_id, provider) VALUES (%s, %s, %s)",
                     (user, model, provider))


def registration(db) -> str:
    return ("INSERT INTO public.llm_models (id, user_id, name, provider, base_url, model_id) "
            "VALUES (%s, %s, 'Llama by hand', 'vllm', 'http://gpu-1:8000', 'llama-3.1-8b')")


def row(db, model: str = MODEL) -> tuple | None:
    rows = db.query("SELECT user_id::text, name, base_url, model_id FROM public.llm_models WHERE id = %s", (model,))
    return rows[0] if rows else None


def test_a_placeholder_belongs_to_nobody_and_every_user_sees_it(installed_supabase):
    db = installed_supabase
    message(db, ALICE, role="authenticated")
    message(db, BOB, role="authenticated")
    assert row(db) == (None, "Unknown vllm model c0ffee00", "", "")
    for user in (ALICE, BOB):
        with db.connect() as conn:
            as_role(conn, "authenticated", user)
            # The README's per-user analytics query: every one of their messages, with a name.
            named = conn.execute("""SELECT v.display_name, count(*) FROM public.messages m
                                      JOIN public.model_display_names v ON v.id::text = m.model_id
                                     GROUP BY 1""").fetchall()
        assert named == [("Unknown vllm model c0ffee00", 1)], user


@pytest.mark.parametrize("schema, who", [("minimal", "owner"), ("supabase", "owner"), ("supabase", "authenticated")])
def test_a_hand_written_registration_takes_the_placeholders_place(make_db, schema, who):
    db = make_db(schema, installed=True)
    user = ALICE
    message(db, user)
    before = db.query("SELECT t::text FROM public.messages t ORDER BY 1")
    with db.connect() as conn:
        if who == "authenticated":
            as_role(conn, "authenticated", ALICE)
        conn.execute(registration(db), (MODEL, user))
    assert row(db) == (user, "Llama by hand", "http://gpu-1:8000", "llama-3.1-8b")
    # The bookkeeping forgot the placeholder: no backfill ever touches the name chosen.
    assert db.value("SELECT count(*) FROM pgmodelnames.machine_names WHERE model_uuid = %s", (MODEL,)) == 0
    assert db.query("SELECT t::text FROM public.messages t ORDER BY 1") == before
    assert db.value("SELECT pgmodelnames.is_replaceable_name(id, name, provider) FROM public.llm_models "
                    "WHERE id = %s", (MODEL,)) is False


def test_the_apps_upsert_of_a_placeholder_works(installed_db):
    db = installed_db
    message(db, None)
    db.execute(registration(db) + " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name", (MODEL, None))
    assert row(db)[1] == "Llama by hand"


def test_a_registration_that_fails_its_policy_leaves_the_placeholder(installed_supabase):
    db = installed_supabase
    message(db, ALICE, role="authenticated")
    with db.connect() as conn:
        as_role(conn, "authenticated", ALICE)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(registration(db), (MODEL, BOB))  # Alice may not create Bob's row
    assert row(db) == (None, "Unknown vllm model c0ffee00", "", "")


@pytest.fixture
def with_foreign_key(installed_minimal):
    installed_minimal.execute("ALTER TABLE public.messages ADD FOREIGN KEY (model_id) REFERENCES public.llm_models (id)")
    installed_minimal.upgrade()  # the key needs the row trigger (docs/guarantees.md, the two shapes)
    assert installed_minimal.value("SELECT shape FROM pgmodelnames.trigger_shape()") == "row"
    return installed_minimal


def test_with_a_foreign_key_the_insert_says_what_it_meets_and_what_works(with_foreign_key):
    db = with_foreign_key
    message(db, None)
    with db.connect() as conn, pytest.raises(psycopg.errors.UniqueViolation) as raised:
        conn.execute(registration(db), (MODEL, None))
    diag = raised.value.diag
    assert "the placeholder pgmodelnames made for it (Unknown vllm model c0ffee00)" in diag.message_primary
    assert "public.messages references llm_models" in diag.message_primary
    assert f"WHERE id = '{MODEL}'" in diag.message_hint and f"pgmodelnames rename {MODEL}" in diag.message_hint
    assert row(db)[1] == "Unknown vllm model c0ffee00"
    # What the hint says works, and so does the app's upsert.
    db.execute("UPDATE public.llm_models SET name = 'Llama by hand' WHERE id = %s", (MODEL,))
    assert row(db)[1] == "Llama by hand"
    other = "c0ffee00-0000-4000-8000-0000000000bb"
    message(db, None, model=other)
    db.execute(registration(db) + " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name", (other, None))
    assert row(db, other)[1] == "Llama by hand"


def test_a_real_row_keeps_its_plain_unique_violation(installed_minimal):
    db = installed_minimal
    db.execute(registration(db), (MODEL, None))
    with db.connect() as conn, pytest.raises(psycopg.errors.UniqueViolation) as raised:
        conn.execute(registration(db), (MODEL, None))
    assert "pgmodelnames" not in raised.value.diag.message_primary


def test_where_user_id_is_required_the_placeholder_is_the_messages_users(make_db):
    db = make_db("minimal")
    db.execute("ALTER TABLE public.llm_models ALTER COLUMN user_id SET NOT NULL")
    assert db.cli("upgrade").code == 0
    message(db, ALICE)
    assert row(db)[0] == ALICE
