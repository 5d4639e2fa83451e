"""The app's own constraints and settings meet pgmodelnames: a placeholder
that breaks an app CHECK, or a NOT NULL user_id with a message that has no
user, is skipped and reported, and every other placeholder is still made,
by the install's history pass, a sweep and a backfill; a short
statement_timeout of the database does not cut an upgrade off."""

from __future__ import annotations

import json
import uuid

import pytest

from support import ALICE


def covered_orphans(db) -> int:
    return db.value("""SELECT count(DISTINCT m.model_id) FROM public.messages m
                        WHERE lower(btrim(m.provider)) = 'vllm'
                          AND NOT EXISTS (SELECT FROM public.llm_models l WHERE l.id = m.model_id)""")


@pytest.mark.parametrize("mode", ["trigger", "sweep"])
def test_one_bad_placeholder_never_stops_the_others(make_db, mode):
    db = make_db("minimal")
    good = [uuid.uuid4() for _ in range(3)]
    bad = uuid.UUID("bad00000-0000-4000-8000-000000000000")
    for model in (*good, bad):
        db.execute("INSERT INTO public.messages (model_id, provider, user_id) VALUES (%s, 'vllm', %s)", (model, ALICE))
    # An app rule a placeholder of that one model cannot meet.
    db.execute("ALTER TABLE public.llm_models ADD CONSTRAINT no_bad CHECK (left(id::text, 3) <> 'bad')")
    result = db.cli("upgrade", "--placeholders", mode)
    assert result.code == 0, result.err
    assert covered_orphans(db) == 1
    assert db.value("SELECT placeholders_skipped FROM pgmodelnames.sweep_state") == 1
    report = json.loads(db.cli("doctor", "--json").out)
    problem = next(p for p in report["problems"] if p["code"] == "placeholders_skipped")
    assert "1 model id(s) of messages could not get a placeholder row" in problem["message"]
    assert 'violates check constraint "no_bad"' in problem["message"]
    # Later passes go on making the others.
    later = uuid.uuid4()
    db.execute("INSERT INTO public.messages (model_id, provider) VALUES (%s, 'vllm')", (later,))
    assert db.cli("sweep", "--full").code == 0
    assert db.cli("backfill", "--dry-run").code == 0
    assert db.cli("backfill").code == 0
    assert covered_orphans(db) == 1
    assert db.value("SELECT count(*) FROM public.llm_models WHERE id = %s", (later,)) == 1


def test_a_required_user_id_and_a_message_without_one(make_db):
    db = make_db("minimal")
    db.execute("ALTER TABLE public.llm_models ALTER COLUMN user_id SET NOT NULL")
    with_user, without = uuid.uuid4(), uuid.uuid4()
    db.execute("INSERT INTO public.messages (model_id, provider, user_id) VALUES (%s, 'vllm', %s), (%s, 'vllm', NULL)",
               (with_user, ALICE, without))
    result = db.cli("upgrade")
    assert result.code == 0, result.err
    assert db.value("SELECT user_id::text FROM public.llm_models WHERE id = %s", (with_user,)) == ALICE
    assert covered_orphans(db) == 1
    assert "null value in column \"user_id\"" in db.value("SELECT skip_reason FROM pgmodelnames.sweep_state")
    # At insert time the message is stored all the same (the statement trigger warns).
    with db.connect() as conn:
        warnings = []
        conn.add_notice_handler(lambda notice: warnings.append(notice.message_primary))
        conn.execute("INSERT INTO public.messages (model_id, provider) VALUES (%s, 'vllm')", (uuid.uuid4(),))
    assert any("pgmodelnames: 1 placeholder(s) could not be created" in w and "null value in column" in w
               for w in warnings)
    assert db.value("SELECT count(*) FROM public.messages WHERE user_id IS NULL") == 2


def test_a_short_statement_timeout_of_the_database(make_db):
    db = make_db("minimal")
    db.execute("""INSERT INTO public.messages (model_id, provider)
                  SELECT md5((i % 50)::text)::uuid, 'vllm' FROM generate_series(1, 300000) AS i""")
    db.execute(f'ALTER DATABASE "{db.dbname}" SET statement_timeout = \'20ms\'')
    result = db.cli("upgrade")
    assert result.code == 0, result.err
    assert "history pass: 50 placeholder(s) created" in result.out
    assert db.cli("doctor").code in (0, 1)
    assert "canceling statement" not in db.cli("doctor").err
