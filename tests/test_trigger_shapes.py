"""The two shapes of the placeholder trigger (revision 0007): a statement
trigger with a transition table (one set-based pass per INSERT or COPY)
where no FOREIGN KEY on messages.model_id references llm_models, and the row
trigger where one does. What each shape must hold beyond the guarantees
both share (tests/test_placeholder_trigger.py runs those in both): bulk
statements, savepoints, ON CONFLICT, partitions, a key added or dropped
later, 64 sessions at every isolation level."""

from __future__ import annotations

import io
import json
import threading
import uuid

import psycopg
import pytest

from support import ALICE, BOB
from test_placeholder_trigger import SHAPES, insert_message, placeholder, use_mode


def shape_of(db) -> tuple[str, str]:
    row = db.query("SELECT shape, reason FROM pgmodelnames.trigger_shape()")[0]
    return row[0], row[1]


def doctor(db) -> tuple[int, dict]:
    result = db.cli("doctor", "--json")
    return result.code, json.loads(result.out)


def codes(report: dict) -> list[str]:
    return [p["code"] for p in report["problems"]]


def placeholders(db) -> int:
    return db.value("SELECT count(*) FROM pgmodelnames.machine_names WHERE source = 'placeholder'")


def test_the_shape_follows_a_foreign_key_added_or_dropped_later(make_db):
    db = make_db("minimal", installed=True)
    assert shape_of(db)[0] == "statement"
    code, report = doctor(db)
    assert report["trigger_shape"]["installed"] == report["trigger_shape"]["wanted"] == "statement"
    assert "trigger shape             statement (no FOREIGN KEY" in db.cli("doctor").out

    db.execute("ALTER TABLE public.messages ADD CONSTRAINT messages_model FOREIGN KEY (model_id) "
               "REFERENCES public.llm_models (id)")
    code, report = doctor(db)
    assert code == 1
    assert "trigger_shape_changed" in codes(report)
    message = next(p["message"] for p in report["problems"] if p["code"] == "trigger_shape_changed")
    assert "a statement trigger, but it must now be a row trigger" in message
    assert "messages_model" in message and "FAILS the key" in message
    # The drift check does not name the same change a second time.
    assert "changed_outside" not in codes(report)

    out = db.upgrade().out
    assert "placeholder trigger shape on public.messages" in out  # what the repair put back
    assert shape_of(db) == ("row", "the FOREIGN KEY messages_model on messages.model_id must find the "
                                   "llm_models row before it checks the message")
    model = uuid.uuid4()
    with db.connect() as conn:
        insert_message(conn, model)
    assert placeholder(db, model) is not None
    assert doctor(db)[1]["trigger_shape"]["installed"] == "row"

    db.execute("ALTER TABLE public.messages DROP CONSTRAINT messages_model")
    code, report = doctor(db)
    assert "trigger_shape_changed" in codes(report)
    db.upgrade()
    assert shape_of(db)[0] == "statement"
    code, report = doctor(db)
    assert not {"trigger_shape_changed", "changed_outside"} & set(codes(report))


def test_the_statement_shape_is_refused_where_a_foreign_key_needs_the_row(make_db):
    db = make_db("minimal")
    db.execute("ALTER TABLE public.messages ADD FOREIGN KEY (model_id) REFERENCES public.llm_models (id)")
    db.upgrade()
    assert shape_of(db)[0] == "row"
    with db.connect() as conn, pytest.raises(psycopg.Error) as refused:
        conn.execute("SELECT pgmodelnames.set_trigger_shape('statement')")
    assert refused.value.sqlstate == "PMN03"
    assert "FOREIGN KEY to llm_models (messages_model_id_fkey)" in str(refused.value)
    with db.connect() as conn, pytest.raises(psycopg.Error) as unknown:
        conn.execute("SELECT pgmodelnames.set_trigger_shape('sideways')")
    assert "unknown trigger shape 'sideways': use auto, row or statement" in str(unknown.value)
    # auto and row keep the row trigger, and nothing is left due.
    assert db.value("SELECT pgmodelnames.set_trigger_shape('auto')") == "row"
    assert db.value("SELECT history_due_since FROM pgmodelnames.sweep_state") is None


def test_a_chosen_row_shape_survives_an_upgrade_and_auto_gives_it_back(make_db):
    db = make_db("supabase", installed=True)
    assert db.value("SELECT pgmodelnames.set_trigger_shape('row')") == "row"
    assert db.cli("doctor").code == 0  # recorded: not a change made outside pgmodelnames
    db.upgrade()
    assert shape_of(db) == ("row", "set_trigger_shape('row') asked for it")
    assert db.value("SELECT count(*) FROM pg_trigger WHERE tgname = 'zz_pgmodelnames_placeholder_insert'") == 0
    assert db.value("SELECT pgmodelnames.set_trigger_shape('auto')") == "statement"


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", ["minimal", "supabase"])
def test_copy_and_bulk_statements_make_each_placeholder_once(make_db, kind, shape):
    db = use_mode(make_db(kind, installed=True), shape)
    known = "fdab6388-0000-4000-8000-000000000001"
    db.execute("INSERT INTO public.llm_models (id, name, provider, base_url, model_id) "
               "VALUES (%s, 'Known', 'vllm', '', '')", (known,))
    new = [str(uuid.uuid4()) for _ in range(3)]
    # Two of them share their first 8 digits: each still gets its own name.
    new[1] = new[0][:8] + new[1][8:]
    rows = [(ALICE, model, provider) for model in [known, *new] for provider in ("vllm", " VLLM", "openai")]
    rows += [(ALICE, new[0].upper(), "vllm")] if kind == "supabase" else []
    with db.connect() as conn:
        with conn.cursor().copy("COPY public.messages (user_id, model_id, provider) FROM STDIN") as copy:
            for row in rows * 50:
                copy.write_row(row)
    assert db.value("SELECT count(*) FROM public.messages") == len(rows) * 50
    assert placeholders(db) == 3
    names = {r[0] for r in db.query("SELECT name FROM public.llm_models WHERE id = ANY(%s::uuid[])", (new,))}
    assert len(names) == 3
    assert {f"Unknown vllm model {new[0][:8]}", f"Unknown vllm model {new[2][:8]}"} < names

    # One statement naming more new models than the ones it takes turns for (256).
    many = [str(uuid.uuid4()) for _ in range(300)]
    db.execute("INSERT INTO public.messages (user_id, model_id, provider) "
               f"SELECT %s, m::{'uuid' if kind == 'minimal' else 'text'}, 'vllm' FROM unnest(%s::text[]) AS m",
               (ALICE, many))
    assert placeholders(db) == 303
    assert db.value("SELECT count(DISTINCT name) FROM public.llm_models") == 304


@pytest.mark.parametrize("shape", SHAPES)
def test_a_rolled_back_savepoint_takes_its_placeholder_with_it(make_db, shape):
    db = use_mode(make_db("minimal", installed=True), shape)
    kept, dropped = uuid.uuid4(), uuid.uuid4()
    with db.connect(autocommit=False) as conn:
        conn.execute("SAVEPOINT before")
        insert_message(conn, dropped)
        assert conn.execute("SELECT count(*) FROM public.llm_models WHERE id = %s", (dropped,)).fetchone()[0] == 1
        conn.execute("ROLLBACK TO SAVEPOINT before")
        insert_message(conn, kept)
        conn.commit()
    assert placeholder(db, kept) is not None
    assert placeholder(db, dropped) is None
    assert db.value("SELECT count(*) FROM pgmodelnames.machine_names") == 1


@pytest.mark.parametrize("shape", SHAPES)
def test_on_conflict_on_messages(make_db, shape):
    db = use_mode(make_db("minimal", installed=True), shape)
    message = uuid.uuid4()
    first, refused, updated = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    statement = ("INSERT INTO public.messages (id, model_id, provider) VALUES (%s, %s, 'vllm') "
                 "ON CONFLICT (id) DO NOTHING")
    db.execute(statement, (message, first))
    db.execute(statement, (message, refused))
    assert placeholder(db, first) is not None
    # The statement trigger sees only the rows the statement stored; the row
    # trigger runs before the conflict is known (docs/guarantees.md, Limits).
    assert (placeholder(db, refused) is None) == (shape == "statement")
    db.execute("INSERT INTO public.messages (id, model_id, provider) VALUES (%s, %s, 'vllm') "
               "ON CONFLICT (id) DO UPDATE SET model_id = EXCLUDED.model_id", (message, updated))
    assert placeholder(db, updated) is not None
    assert db.value("SELECT model_id FROM public.messages") == updated


@pytest.mark.parametrize("shape", SHAPES)
def test_a_registry_that_demands_an_owner_gets_the_messages_user(make_db, shape):
    db = use_mode(make_db("supabase", installed=True), shape)
    db.execute("ALTER TABLE public.llm_models ALTER COLUMN user_id SET NOT NULL")
    alices, bobs = uuid.uuid4(), uuid.uuid4()
    db.execute("INSERT INTO public.messages (user_id, model_id, provider) VALUES (%s, %s, 'vllm'), (%s, %s, 'vllm')",
               (ALICE, str(alices), BOB, str(bobs)))
    assert db.query("SELECT id, user_id FROM public.llm_models ORDER BY user_id = %s", (ALICE,)) == \
        [(bobs, uuid.UUID(BOB)), (alices, uuid.UUID(ALICE))]


def test_statement_triggers_on_every_partition_and_one_created_later(make_db):
    db = make_db("minimal")
    db.execute("""
        ALTER TABLE public.messages RENAME TO messages_plain;
        CREATE TABLE public.messages (
            id uuid DEFAULT gen_random_uuid(), user_id uuid, model_id uuid, provider text, content text,
            created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (id, created_at)
        ) PARTITION BY RANGE (created_at);
        CREATE TABLE public.messages_2025 PARTITION OF public.messages
            FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') PARTITION BY RANGE (created_at);
        CREATE TABLE public.messages_2025_h1 PARTITION OF public.messages_2025
            FOR VALUES FROM ('2025-01-01') TO ('2025-07-01');
        CREATE TABLE public.messages_2025_h2 PARTITION OF public.messages_2025
            FOR VALUES FROM ('2025-07-01') TO ('2026-01-01');
    """)
    db.upgrade()
    assert db.query("SELECT tgrelid::regclass::text FROM pg_trigger "
                    "WHERE tgname = 'zz_pgmodelnames_placeholder_insert' ORDER BY 1") == \
        [("messages",), ("messages_2025",), ("messages_2025_h1",), ("messages_2025_h2",)]
    through_parent, into_partition, into_sub = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    db.execute("INSERT INTO public.messages (model_id, provider, created_at) VALUES (%s, 'vllm', '2025-03-01')",
               (through_parent,))
    db.execute("INSERT INTO public.messages_2025_h2 (model_id, provider, created_at) "
               "VALUES (%s, 'vllm', '2025-09-01')", (into_partition,))
    db.execute("INSERT INTO public.messages_2025 (model_id, provider, created_at) VALUES (%s, 'vllm', '2025-10-01')",
               (into_sub,))
    assert all(placeholder(db, m) is not None for m in (through_parent, into_partition, into_sub))
    assert placeholders(db) == 3

    db.execute("CREATE TABLE public.messages_2026 PARTITION OF public.messages "
               "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')")
    code, report = doctor(db)
    problem = next(p for p in report["problems"] if p["code"] == "partitions_without_trigger")
    assert "messages_2026" in problem["message"]
    assert "changed_outside" not in codes(report)
    # Rows routed through messages are covered all the same.
    routed = uuid.uuid4()
    db.execute("INSERT INTO public.messages (model_id, provider, created_at) VALUES (%s, 'vllm', '2026-03-01')",
               (routed,))
    assert placeholder(db, routed) is not None
    db.upgrade()
    direct = uuid.uuid4()
    db.execute("INSERT INTO public.messages_2026 (model_id, provider, created_at) VALUES (%s, 'vllm', '2026-03-01')",
               (direct,))
    assert placeholder(db, direct) is not None
    # Dropping a partition is no problem.
    db.execute("DROP TABLE public.messages_2025_h1")
    code, report = doctor(db)
    assert not {"partitions_without_trigger", "changed_outside", "trigger_shape_changed"} & set(codes(report))
    # The removal finds every partition's trigger.
    assert db.cli("downgrade", "base").code == 0
    assert db.value("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'zz_pgmodelnames%'") == 0


def test_a_lock_timeout_inside_the_statement_pass_is_a_warning_and_the_rows_stay(make_db):
    db = make_db("minimal", installed=True)
    model = uuid.uuid4()
    with db.connect(autocommit=False) as holder:
        holder.execute("LOCK TABLE public.llm_models IN ACCESS EXCLUSIVE MODE")
        with db.connect() as conn:
            notices: list[str] = []
            conn.add_notice_handler(lambda d: notices.append(d.message_primary))
            conn.execute("SET lock_timeout = '200ms'")
            insert_message(conn, model)
        holder.rollback()
    assert db.value("SELECT count(*) FROM public.messages") == 1
    assert [n for n in notices if "pgmodelnames" in n] == \
        ["pgmodelnames: no placeholders for 0 new model(s) (first: <NULL>): canceling statement due to lock "
         "timeout (the messages were stored)"]
    # The history pass (or the doctor's advice) makes it later.
    assert db.value("SELECT pgmodelnames.create_missing_placeholders()") == 1


def run_sessions(db, isolation: str, statement) -> list[str]:
    """64 sessions, each with its snapshot taken before any of them commits, run STATEMENT(conn,
    number) at once and commit; returns the pgmodelnames notices they got."""
    sessions = 64
    barrier = threading.Barrier(sessions)
    errors: list[BaseException] = []
    notices: list[str] = []

    def worker(number: int):
        try:
            with db.connect(autocommit=False) as conn:
                conn.add_notice_handler(lambda diag: notices.append(diag.message_primary))
                conn.execute(f"SET TRANSACTION ISOLATION LEVEL {isolation}")
                conn.execute("SELECT count(*) FROM public.llm_models")  # the snapshot, before anyone commits
                barrier.wait(timeout=60)
                statement(conn, number)
                conn.commit()
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert db.value("SELECT count(*) FROM public.messages") >= sessions
    return [n for n in notices if "pgmodelnames" in n]


ISOLATIONS = ["READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE"]


@pytest.mark.parametrize("isolation", ISOLATIONS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", ["minimal", "supabase"])
def test_64_sessions_naming_one_new_model(make_db, kind, shape, isolation):
    db = use_mode(make_db(kind, installed=True), shape)
    model = str(uuid.uuid4())
    assert run_sessions(db, isolation, lambda conn, _: insert_message(conn, model)) == []
    assert db.value("SELECT count(*) FROM public.messages") == 64
    assert db.value("SELECT count(*) FROM public.llm_models WHERE id = %s", (model,)) == 1


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_64_statements_naming_two_new_models_in_either_order(make_db, isolation):
    """The statement shape takes its per-model turns in one order, whatever order the rows
    name the models in: no deadlock, no WARNING. (The row shape takes them row by row: two new
    models in opposite orders in one transaction can deadlock there, docs/guarantees.md.)"""
    db = make_db("supabase", installed=True)
    models = [str(uuid.uuid4()), str(uuid.uuid4())]

    def insert_both(conn, number: int) -> None:
        first, second = models if number % 2 else models[::-1]
        conn.execute("INSERT INTO public.messages (user_id, model_id, provider) VALUES (%s, %s, 'vllm'), "
                     "(%s, %s, 'vllm')", (ALICE, first, ALICE, second))

    assert run_sessions(db, isolation, insert_both) == []
    assert db.value("SELECT count(*) FROM public.messages") == 128
    assert db.value("SELECT count(*) FROM public.llm_models WHERE id = ANY(%s::uuid[])", (models,)) == 2


def test_what_the_statement_pass_reads_is_one_row_per_model_and_provider(make_db):
    """The pass groups the new rows before it tests or casts anything: a TEXT id that is not a
    UUID never reaches the cast (a million of them would otherwise fail the app's statement)."""
    db = make_db("supabase", installed=True)
    plain = ["gpt-4o-mini", "", " ", "x" * 5000, "{fdab6388-0000-4000-8000-000000000001}",
             "FDAB6388-0000-4000-8000-00000000000Z", "模型-🦙"]
    model = str(uuid.uuid4())
    buffer = io.StringIO()
    for index in range(2000):
        buffer.write(f"{ALICE}\t{plain[index % len(plain)] if index % 100 else model}\tvllm\n")
    with db.connect() as conn:
        with conn.cursor().copy("COPY public.messages (user_id, model_id, provider) FROM STDIN") as copy:
            copy.write(buffer.getvalue())
    assert db.value("SELECT count(*) FROM public.messages") == 2000
    assert db.query("SELECT id::text FROM public.llm_models") == [(model,)]
