"""The evidence a person gets for a placeholder (sql/diagnostics/placeholder_evidence.sql
through pgmodelnames.evidence): counts, dates, users, conversations, the share of
recent traffic; on both fixture schemas (uuid and text messages.model_id), with
optional columns missing, run alone as its header says, and only the
placeholders' messages read (the predicate can use an index on model_id)."""

from __future__ import annotations

import re
import subprocess
import uuid
from pathlib import Path

import pytest

from pgmodelnames import evidence, render
from support import ALICE, BOB

SQL = Path(__file__).resolve().parent.parent / "sql" / "diagnostics" / "placeholder_evidence.sql"


def add_messages(db, model: str, count: int, user: str | None = ALICE, conversation: str | None = None,
                 age: str = "0 days") -> None:
    db.execute("INSERT INTO messages (role, model_id, provider, user_id, conversation_id, created_at) "
               "SELECT 'assistant', %s, 'vllm', %s, %s, now() - %s::interval FROM generate_series(1, %s)",
               (model, user, conversation or str(uuid.uuid4()), age, count))


def read(db, *models: str) -> dict:
    with db.connect() as conn:
        return evidence.for_models(conn, "public", list(models))


def test_evidence_counts_what_a_person_recognises_a_model_by(installed_db):
    db = installed_db
    model, other = str(uuid.uuid4()), str(uuid.uuid4())
    chat = str(uuid.uuid4())
    add_messages(db, model, 3, ALICE, chat, age="30 days")  # old: not recent
    add_messages(db, model, 2, BOB, chat)
    add_messages(db, other, 5, ALICE)
    if db.kind == "supabase":  # a TEXT model_id: the UUID in capitals is the same model
        add_messages(db, model.upper(), 1, BOB, chat)
    upper = 1 if db.kind == "supabase" else 0
    found = read(db, model)
    assert set(found) == {model}  # only the ids asked for
    ev = found[model]
    assert ev["messages"] == 5 + upper and ev["users"] == 2 and ev["conversations"] == 1
    assert ev["first_seen"] < ev["last_seen"]
    assert (ev["recent_days"], ev["recent_messages"], ev["recent_total"]) == (7, 2 + upper, 7 + upper)
    assert ev["recent_share"] == round((2 + upper) / (7 + upper), 4)
    text = render.evidence_text(ev)
    assert text.startswith(f"{5 + upper} messages, first ")
    assert f"2 users, 1 conversation, {round(100 * (2 + upper) / (7 + upper))}% of the last 7 days' messages" in text


def test_a_model_no_message_names(installed_minimal):
    missing = str(uuid.uuid4())
    assert read(installed_minimal, missing)[missing]["messages"] == 0
    assert render.evidence_text(read(installed_minimal, missing)[missing]) == "no message names it"
    assert read(installed_minimal) == {}


def test_optional_columns_may_be_missing(minimal_db):
    db = minimal_db
    db.execute("ALTER TABLE messages DROP COLUMN created_at, DROP COLUMN user_id, DROP COLUMN conversation_id")
    model = str(uuid.uuid4())
    db.execute("INSERT INTO messages (model_id, provider) VALUES (%s, 'vllm'), (%s, 'vllm')", (model, model))
    db.upgrade()
    ev = read(db, model)[model]
    assert ev["messages"] == 2
    assert [ev[key] for key in ("first_seen", "users", "conversations", "recent_days", "recent_share")] == [None] * 5
    assert render.evidence_text(ev) == "2 messages"


def test_a_timestamp_without_time_zone(minimal_db):
    db = minimal_db
    db.execute("ALTER TABLE messages ALTER COLUMN created_at TYPE timestamp")
    model = str(uuid.uuid4())
    add_messages(db, model, 2)
    ev = read(db, model)[model]
    assert ev["messages"] == 2 and ev["recent_messages"] == 2 and ev["first_seen"].tzinfo is None


@pytest.mark.parametrize("kind", ["minimal", "supabase"])
def test_only_the_placeholders_messages_are_read_and_an_index_serves_them(make_db, kind):
    db = make_db(kind)
    db.execute("CREATE INDEX ON messages (model_id)")
    model = str(uuid.uuid4())
    add_messages(db, model, 2)
    with db.connect() as conn:
        columns = evidence.message_columns(conn, "public")
        query = evidence._sql("placeholder_evidence.sql", "public", **evidence.fragments(columns))
        conn.execute("SET enable_seqscan = off")  # is the predicate one an index can serve at all?
        plan = "\n".join(r[0] for r in conn.execute(
            "EXPLAIN " + query, {"ids": [model], "spellings": evidence.spellings(model), "recent_days": 7}))
    scans = [line for line in plan.splitlines() if "messages" in line and "Scan" in line]
    assert any("Index" in line and "messages_model_id_idx" in line for line in scans), plan
    assert "model_id = ANY" in plan


def test_the_header_says_how_to_run_it_alone(installed_minimal):
    """The sed | psql command in the file's header runs as written (the example id replaced)."""
    db = installed_minimal
    model = "fdab6388-2c1e-4c5a-9f0e-6b1d2a7c9e41"
    add_messages(db, model, 3)
    header = [line[2:].strip() for line in SQL.read_text().splitlines() if line.startswith("--")]
    start = next(i for i, line in enumerate(header) if line.startswith("sed "))
    command = " ".join(line.rstrip("\\").strip() for line in header[start:start + 5])
    assert command.endswith('placeholder_evidence.sql | psql "$DATABASE_URL"'), command
    done = subprocess.run(["bash", "-c", command], cwd=SQL.parent, capture_output=True, text=True, timeout=60,
                          env={"DATABASE_URL": db.url, "PATH": "/usr/bin:/bin:/usr/local/bin",
                               "PGCONNECT_TIMEOUT": "10"})
    assert done.returncode == 0 and "ERROR" not in done.stderr, done.stderr
    assert re.search(rf"{model}\s*\|\s*3\s*\|", done.stdout), done.stdout
