"""pgmodelnames behind a real PgBouncer, in transaction and session mode,
with an app inserting through the same pooler: no lock and no setting
outlives the transaction that took it, every command works (or refuses in
one line), and a wait for the migration lock is bounded and names the holder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from support import seed_problem, wait_for_lock_wait

REPO = Path(__file__).resolve().parent.parent
MIGRATION_LOCK_KEY = 7_236_518_204_411_093


class AppTraffic:
    """An app inserting messages through the pooler until stopped: known and
    new vLLM models, and a session-level SET now and then (as careless apps do)."""

    def __init__(self, pooler, db) -> None:
        self.pooler, self.db = pooler, db
        self.stop = threading.Event()
        self.inserted = 0
        self.slowest = 0.0
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            with self.pooler.connect(self.db.dbname) as conn:
                while not self.stop.is_set():
                    model = str(uuid.uuid4()) if self.inserted % 10 == 0 else "fdab6388-0000-4000-8000-000000000001"
                    started = time.monotonic()
                    conn.execute("INSERT INTO public.messages (model_id, provider, content) VALUES (%s, 'vllm', 'x')",
                                 (model,))
                    self.slowest = max(self.slowest, time.monotonic() - started)
                    self.inserted += 1
                    time.sleep(0.005)
        except BaseException as exc:  # noqa: BLE001 - asserted by the test
            self.errors.append(exc)

    def __enter__(self) -> "AppTraffic":
        self.thread.start()
        # The app is really inserting before the test goes on (a slow machine
        # could otherwise run the whole test before the app's first insert).
        deadline = time.monotonic() + 30
        while self.inserted == 0 and not self.errors and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(10)
        assert self.errors == [], self.errors
        assert self.inserted > 0
        # No insert is queued behind a migration for long (each of its lock
        # attempts lasts 100 ms; 2 s leaves room for a loaded machine).
        assert self.slowest < 2.0, f"an app insert waited {self.slowest:.2f} s"


def migration_lock_holders(db) -> list[tuple]:
    return db.query("""SELECT pid, state FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                        WHERE l.locktype = 'advisory' AND l.objsubid = 1
                          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                          AND ((l.classid::bigint << 32) | l.objid::bigint) = %s""", (MIGRATION_LOCK_KEY,))


def leaked_settings(pooler, db) -> list[str]:
    """Settings pgmodelnames could leave on a pooled backend, as every backend of the pool sees them."""
    found = []
    conns = [pooler.connect(db.dbname, autocommit=False) for _ in range(pooler.pool_size)]
    try:
        for conn in conns:  # one open transaction each: every backend of the pool is visited once
            for name in ("lock_timeout", "pgmodelnames.doctor_providers", "pgmodelnames.doctor_use_index"):
                value = conn.execute("SELECT current_setting(%s, true)", (name,)).fetchone()[0]
                if value not in (None, "", "0"):
                    found.append(f"{name}={value}")
    finally:
        for conn in conns:
            conn.rollback()
            conn.close()
    return found


@pytest.fixture(params=["transaction", "session"])
def pooled(request, pgbouncer, server, make_db):
    db = make_db("minimal")
    seed_problem(db)
    pooler = pgbouncer(request.param, host=server.host, port=server.port)
    return pooler, db


def test_upgrade_and_downgrade_through_the_pooler_leave_no_lock_and_no_setting(pooled):
    pooler, db = pooled
    url = pooler.url(db.dbname)
    with AppTraffic(pooler, db):
        for _ in range(3):
            up = db.cli("upgrade", url=url)
            assert up.code == 0, up.err
            assert migration_lock_holders(db) == []
            down = db.cli("downgrade", "base", url=url)
            assert down.code == 0, down.err
            assert migration_lock_holders(db) == []
        assert db.cli("upgrade", url=url).code == 0
    assert migration_lock_holders(db) == []
    assert leaked_settings(pooler, db) == []
    # The history pass and the trigger gave every message's model a row.
    assert db.value("""SELECT count(*) FROM public.messages m
                        WHERE NOT EXISTS (SELECT FROM public.llm_models l WHERE l.id = m.model_id)
                          AND lower(btrim(m.provider)) = 'vllm'""") == 0


def test_the_printed_script_through_the_pooler_leaves_no_lock(pooled, tmp_path):
    pooler, db = pooled
    script = tmp_path / "install.sql"
    script.write_text(db.cli("upgrade", "--sql").out)
    with AppTraffic(pooler, db):
        applied = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", pooler.url(db.dbname),
                                  "-f", str(script)], capture_output=True, text=True)
    assert applied.returncode == 0, applied.stderr
    assert "you don't own a lock" not in applied.stderr
    assert migration_lock_holders(db) == []
    assert db.cli("current").out.strip() == db.value("SELECT version_num FROM pgmodelnames.alembic_version")
    assert leaked_settings(pooler, db) == []


def test_a_killed_upgrade_does_not_block_the_next_one(pooled):
    pooler, db = pooled
    env = dict(os.environ, PYTHONPATH=str(REPO), DATABASE_URL=pooler.url(db.dbname))
    holder = db.connect(autocommit=False)
    try:
        # A long app transaction on messages: the upgrade waits in its lock step.
        holder.execute("INSERT INTO public.messages (model_id, provider) VALUES (%s, 'openai')", (uuid.uuid4(),))
        process = subprocess.Popen([sys.executable, "-m", "pgmodelnames", "upgrade"], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert wait_for_lock_wait(db, seconds=20, not_pid=holder.info.backend_pid)
            assert migration_lock_holders(db), "the upgrade holds the migration lock while it waits"
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
    finally:
        holder.rollback()
        holder.close()
    deadline = time.monotonic() + 20
    while migration_lock_holders(db) and time.monotonic() < deadline:
        time.sleep(0.05)  # the pooler closes the dead client's server connection, which frees the lock
    assert migration_lock_holders(db) == []
    started = time.monotonic()
    again = db.cli("upgrade", "--lock-wait", "10", url=pooler.url(db.dbname))
    assert again.code == 0, again.err
    assert time.monotonic() - started < 30
    assert f"upgraded nothing -> {db.value('SELECT version_num FROM pgmodelnames.alembic_version')}" in again.out


def test_a_held_migration_lock_is_a_bounded_wait_that_names_the_holder(pooled):
    pooler, db = pooled
    with db.connect() as other:
        other.execute("SET application_name = 'replica-2 deploy'")
        other.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        started = time.monotonic()
        result = db.cli("upgrade", "--lock-wait", "1", url=pooler.url(db.dbname))
        elapsed = time.monotonic() - started
        pid = other.info.backend_pid
    assert result.code == 5, result.err
    assert result.err.count("\n") == 1
    assert f"session pid {pid} (replica-2 deploy" in result.err and "since 20" in result.err
    assert elapsed < 15
    assert db.value("SELECT to_regnamespace('pgmodelnames')") is None  # nothing changed


def _report(result) -> dict:
    report = json.loads(result.out)
    report.pop("database")
    report.pop("messages_scan")
    return report


def test_reading_commands_answer_the_same_through_the_pooler_under_load(pooled):
    pooler, db = pooled
    db.upgrade()
    direct = db.cli("doctor", "--json")
    assert direct.code == 1  # placeholders wait for names: the answer to reproduce
    url = pooler.url(db.dbname)
    with AppTraffic(pooler, db) as traffic:
        for _ in range(8):  # more than psycopg's threshold for preparing a statement
            through = db.cli("doctor", "--json", url=url)
            assert through.code == direct.code, through.err
            assert _report(through)["problems"][0]["code"] == _report(direct)["problems"][0]["code"]
            assert _report(through)["objects"] == _report(direct)["objects"]
            assert db.cli("current", url=url).out == db.cli("current").out
        assert traffic.inserted > 0
    renamed = db.cli("rename", "fdab6388-0000-4000-8000-000000000001", "Llama 3.1 8B", url=url)
    assert renamed.code == 0, renamed.err
    through, direct = db.cli("backfill", "--json", url=url), db.cli("backfill", "--json")
    assert through.code == direct.code and through.err == direct.err == ""
    assert json.loads(through.out)["unresolved_placeholders"] == json.loads(direct.out)["unresolved_placeholders"]
    assert leaked_settings(pooler, db) == []


@pytest.mark.parametrize("shape", ["statement", "row"])
def test_placeholders_through_the_pooler_in_both_trigger_shapes(pooled, shape):
    """The app's single-row inserts and a bulk statement through the pooler: every covered model
    gets its row in either shape, and no insert fails or waits."""
    pooler, db = pooled
    db.upgrade()
    assert db.value("SELECT pgmodelnames.set_trigger_shape(%s)", (shape,)) == shape
    with AppTraffic(pooler, db) as app:
        deadline = time.monotonic() + 30
        while app.inserted < 40 and not app.errors and time.monotonic() < deadline:
            time.sleep(0.01)
        with pooler.connect(db.dbname) as conn:
            conn.execute("INSERT INTO public.messages (model_id, provider, content) "
                         "SELECT gen_random_uuid(), 'vllm', 'bulk' FROM generate_series(1, 300)")
    assert app.inserted >= 40
    assert db.value("""SELECT count(*) FROM public.messages m
                        WHERE NOT EXISTS (SELECT FROM public.llm_models l WHERE l.id = m.model_id)
                          AND lower(btrim(m.provider)) = 'vllm'""") == 0
    assert db.value("SELECT count(*) FROM public.messages WHERE content = 'bulk'") == 300
