"""Sweep mode (revision 0005): no trigger on messages; placeholders come from
pgmodelnames.sweep(), an incremental, set-based, idempotent pass. What only
sweep mode has: the high-water mark (reads nothing old, misses nothing
committed late), sweeps that take turns, switching modes both ways, Citus
detection, and pg_cron on a real cluster (tests/cron_cluster.py)."""

from __future__ import annotations

import json
import threading
import uuid

import psycopg
import pytest

from cron_cluster import JOB_DEADLINE
from support import ALICE, first_server
from unprivileged import Abort, wait_until

SCHEMA_MINIMAL = __import__("pathlib").Path(__file__).parent / "fixtures" / "schema_minimal.sql"


def to_sweep(db) -> None:
    result = db.cli("upgrade", "--placeholders", "sweep")
    assert result.code == 0, result.err
    assert "now come from the sweep" in result.out


def insert(conn, model, provider="vllm") -> None:
    conn.execute("INSERT INTO public.messages (user_id, model_id, provider) VALUES (%s, %s, %s)",
                 (ALICE, str(model), provider))


def sweep(db, **kwargs) -> dict:
    args = ", ".join(f"{k} => %({k})s" for k in kwargs)
    with db.connect() as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(f"SELECT * FROM pgmodelnames.sweep({args})", kwargs).fetchone()


def has_model(db, model) -> bool:
    return db.value("SELECT count(*) FROM public.llm_models WHERE id = %s", (str(model),)) == 1


@pytest.fixture(params=["minimal", "supabase"])
def swept_db(request, make_db):
    """Each fixture schema in sweep mode, with an index on messages(created_at) (a timestamptz
    column defaulting to now(): the sweep reads new rows through it)."""
    db = make_db(request.param, installed=True)
    db.execute("CREATE INDEX messages_created_at ON public.messages (created_at)")
    to_sweep(db)
    return db


def test_sweep_mode_has_no_trigger_and_sweeps(swept_db):
    assert swept_db.value("SELECT count(*) FROM pg_trigger WHERE tgname = 'zz_pgmodelnames_placeholder'") == 0
    model = uuid.uuid4()
    with swept_db.connect() as conn:
        insert(conn, model)
    assert not has_model(swept_db, model)  # waits for the sweep; model_display_name() names it meanwhile
    assert swept_db.value("SELECT public.model_display_name(%s::uuid)", (str(model),)) == \
        f"Unknown model {str(model)[:8]}"
    result = sweep(swept_db)
    assert (result["method"], result["mark_column"], result["created"]) == ("column", "created_at", 1)
    assert has_model(swept_db, model)
    assert sweep(swept_db)["created"] == 0


def _read_counters(db) -> tuple[int, int, int]:
    with db.connect() as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        return conn.execute("SELECT seq_scan, coalesce(seq_tup_read, 0), coalesce(idx_tup_fetch, 0) "
                            "FROM pg_stat_user_tables WHERE relid = 'public.messages'::regclass").fetchone()


def _sweep_and_flush(db) -> dict:
    with db.connect() as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        result = cur.execute("SELECT * FROM pgmodelnames.sweep()").fetchone()
        conn.execute("SELECT pg_stat_force_next_flush()")  # this session's counters, at the end of this statement
    return result


def test_incremental_sweep_reads_no_old_rows(swept_db):
    swept_db.execute("""INSERT INTO public.messages (model_id, provider)
                        SELECT (md5('m' || (g % 50)))::uuid, CASE WHEN g % 2 = 0 THEN 'vllm' ELSE 'openai' END
                          FROM generate_series(1, 5000) AS g""")
    assert sweep(swept_db, full=True)["created"] == 25
    _sweep_and_flush(swept_db)  # the mark is now above every row
    before = _read_counters(swept_db)
    result = _sweep_and_flush(swept_db)
    after = _read_counters(swept_db)
    assert result["created"] == 0 and not result["held_back"]
    # Nothing new: no sequential scan, and not one of the 5,000 rows fetched.
    assert (after[0] - before[0], after[1] - before[1], after[2] - before[2]) == (0, 0, 0)
    # One new row: fetched through the index, alone.
    model = uuid.uuid4()
    with swept_db.connect() as conn:
        insert(conn, model)
    before = _read_counters(swept_db)
    assert _sweep_and_flush(swept_db)["created"] == 1
    after = _read_counters(swept_db)
    assert after[0] - before[0] == 0 and after[2] - before[2] <= 2


@pytest.mark.parametrize("column", ["created_at", "identity"])
def test_late_committing_rows_are_not_missed(make_db, column):
    db = make_db("minimal", installed=True)
    if column == "identity":
        db.execute("ALTER TABLE public.messages ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY")
        db.execute("CREATE INDEX ON public.messages (seq)")
        db.execute("CREATE INDEX ON public.messages (created_at)")  # the identity column is preferred
    else:
        db.execute("CREATE INDEX ON public.messages (created_at)")
    to_sweep(db)
    with db.connect() as conn:
        insert(conn, uuid.uuid4())
    assert sweep(db)["created"] == 1 and sweep(db)["high_water_mark"] is not None  # a mark to read from
    late, early = uuid.uuid4(), uuid.uuid4()
    with db.connect(autocommit=False) as slow:
        # A transaction takes its created_at (now()) / identity value first...
        insert(slow, late)
        # ...another commits a later value, and a sweep runs while the first is still open.
        with db.connect() as fast:
            insert(fast, early)
        result = sweep(db, settle="200 milliseconds")
        assert result["mark_column"] == ("seq" if column == "identity" else "created_at")
        assert result["created"] == 1 and result["held_back"], result
        assert has_model(db, early) and not has_model(db, late)
        slow.commit()
    # The mark was held back: the next sweep reads the late row.
    result = sweep(db)
    assert result["created"] == 1 and not result["held_back"]
    assert has_model(db, late)


def test_a_transaction_open_before_the_sweep_inserting_after_it(make_db):
    db = make_db("minimal", installed=True)
    db.execute("CREATE INDEX ON public.messages (created_at)")
    to_sweep(db)
    model = uuid.uuid4()
    with db.connect(autocommit=False) as app:
        app.execute("SELECT 1")  # now() is fixed here, before the sweep
        assert sweep(db, settle="100 milliseconds")["held_back"]
        insert(app, model)      # created_at = that earlier now(), below the sweep's bound
        app.commit()
    assert sweep(db)["created"] == 1 and has_model(db, model)


def test_concurrent_sweeps_take_turns(swept_db):
    models = [uuid.uuid4() for _ in range(20)]
    with swept_db.connect() as conn:
        for model in models:
            insert(conn, model)
    barrier = threading.Barrier(6)
    results, errors = [], []

    def worker():
        try:
            barrier.wait(timeout=30)
            results.append(sweep(swept_db)["created"])
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [] and sum(results) == 20 and sorted(results)[-1] == 20
    assert swept_db.value("SELECT count(*) FROM public.llm_models") == 20


def test_switching_modes_both_ways(installed_db):
    db = installed_db
    db.execute("CREATE INDEX ON public.messages (created_at)")
    to_sweep(db)
    during_sweep_mode = uuid.uuid4()
    with db.connect() as conn:
        insert(conn, during_sweep_mode)
    assert not has_model(db, during_sweep_mode)
    # Back to the trigger: the switch gives placeholders to what the sweep had not reached yet.
    result = db.cli("upgrade", "--placeholders", "trigger")
    assert result.code == 0 and "1 placeholder(s) created" in result.out, result.out + result.err
    assert has_model(db, during_sweep_mode)
    assert db.value("SELECT count(*) FROM pg_trigger WHERE tgname = 'zz_pgmodelnames_placeholder'") == 1
    with db.connect() as conn:
        model = uuid.uuid4()
        insert(conn, model)
    assert has_model(db, model)
    assert db.cli("sweep").out.startswith("pgmodelnames: placeholders come from the trigger")
    # And to sweep again: the first sweep starts the mark from the bottom.
    to_sweep(db)
    assert db.value("SELECT mark_time IS NOT NULL FROM pgmodelnames.sweep_state")


def test_downgrade_from_sweep_mode_then_upgrade_gives_the_history_its_placeholders(swept_db):
    model = uuid.uuid4()
    with swept_db.connect() as conn:
        insert(conn, model)  # not swept yet
    result = swept_db.cli("downgrade", "base")
    assert result.code == 0, result.err
    assert not has_model(swept_db, model)
    assert swept_db.value("SELECT count(*) FROM pg_trigger WHERE tgname = 'zz_pgmodelnames_placeholder'") == 0
    assert swept_db.value("SELECT to_regclass('pgmodelnames.sweep_state')") is None
    # A new install starts in trigger mode, and its history pass reaches the message.
    upgraded = swept_db.cli("upgrade")
    assert upgraded.code == 0 and "history pass: 1 placeholder(s) created" in upgraded.out, upgraded.out
    assert has_model(swept_db, model)
    assert swept_db.value("SELECT mode FROM pgmodelnames.sweep_state") == "trigger"


def test_index_path_when_chosen_reads_every_distinct_id(swept_db):
    """set_sweep_method('index'): exact whoever set created_at (a replica, an import with old
    timestamps), where a mark would have passed the row."""
    swept_db.execute("CREATE INDEX ON public.messages (model_id)")
    assert swept_db.value("SELECT pgmodelnames.set_sweep_method('index')") == "index"
    model = uuid.uuid4()
    with swept_db.connect() as conn:
        conn.execute("INSERT INTO public.messages (model_id, provider, created_at) VALUES (%s, 'vllm', '2001-01-01')",
                     (str(model),))
    result = sweep(swept_db)
    assert (result["method"], result["created"]) == ("index", 1) and has_model(swept_db, model)
    assert swept_db.value("SELECT pgmodelnames.set_sweep_method('auto')") == "column"
    with pytest.raises(psycopg.Error):
        swept_db.execute("SELECT pgmodelnames.set_sweep_method('fast')")


def test_an_import_below_the_mark_needs_a_full_sweep(swept_db):
    """The documented limit of the mark: a row whose created_at the app set below it is found by
    the next full sweep (pg_cron runs one nightly), not by an incremental one."""
    model = uuid.uuid4()
    with swept_db.connect() as conn:
        conn.execute("INSERT INTO public.messages (model_id, provider, created_at) VALUES (%s, 'vllm', '2001-01-01')",
                     (str(model),))
    assert sweep(swept_db)["created"] == 0
    assert sweep(swept_db, full=True)["created"] == 1 and has_model(swept_db, model)


def test_backfill_runs_the_sweep(swept_db):
    model = uuid.uuid4()
    with swept_db.connect() as conn:
        insert(conn, model)
    result = swept_db.cli("backfill")
    assert result.code == 0, result.err
    assert "sweep: 1 new placeholder(s)" in result.out
    assert has_model(swept_db, model)


def test_sweep_mode_refuses_a_foreign_key(make_db):
    db = make_db("minimal", installed=True)
    db.execute("ALTER TABLE public.messages ADD FOREIGN KEY (model_id) REFERENCES public.llm_models (id)")
    result = db.cli("upgrade", "--placeholders", "sweep")
    assert result.code == 4 and "FOREIGN KEY" in result.err and result.err.count("\n") == 1
    assert db.value("SELECT mode FROM pgmodelnames.sweep_state") == "trigger"


def test_sweep_without_an_index_reads_everything_and_doctor_says_so(make_db):
    db = make_db("minimal", installed=True)
    to_sweep(db)
    model = uuid.uuid4()
    with db.connect() as conn:
        insert(conn, model)
    doctor = db.cli("doctor", "--json")
    report = json.loads(doctor.out)
    assert report["placeholder_mode"]["mode"] == "sweep" and report["placeholder_mode"]["waiting_model_ids"] == 1
    codes = {n["code"] for n in report["notes"]}
    assert {"sweep_waiting", "sweep_reads_everything"} <= codes
    assert "placeholder_trigger_missing" not in {p["code"] for p in report["problems"]}
    assert sweep(db)["method"] == "full" and has_model(db, model)
    db.execute("CREATE INDEX ON public.messages (model_id)")
    model = uuid.uuid4()
    with db.connect() as conn:
        insert(conn, model)
    result = sweep(db)
    assert (result["method"], result["created"]) == ("index", 1)
    text = db.cli("doctor").out
    assert "placeholders              sweep (no trigger on messages)" in text
    assert "waiting for the sweep     0 model id(s)" in text


def test_doctor_flags_a_sweep_that_never_ran(make_db):
    db = make_db("minimal", installed=True)
    db.execute("SELECT pgmodelnames.set_placeholder_mode('sweep')")  # switched without the first sweep
    with db.connect() as conn:
        insert(conn, uuid.uuid4())
    report = json.loads(db.cli("doctor", "--json").out)
    assert "sweep_late" in {p["code"] for p in report["problems"]}


def test_offline_sql_with_sweep_mode_matches_online(make_db, tmp_path):
    import subprocess

    from catalog import snapshot

    online, offline = make_db("supabase"), make_db("supabase")
    assert online.cli("upgrade", "--placeholders", "sweep").code == 0
    script = offline.cli("upgrade", "--sql", "--placeholders", "sweep")
    assert script.code == 0 and "set_placeholder_mode('sweep')" in script.out
    path = tmp_path / "upgrade.sql"
    path.write_text(script.out)
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", offline.url, "-f", str(path)],
                   check=True, capture_output=True)
    assert snapshot(offline) == snapshot(online)
    assert offline.value("SELECT mode FROM pgmodelnames.sweep_state") == "sweep"


# --- Citus: detection from its documented catalog, never faked ----------------------------------


def test_citus_detection_does_not_refuse_trigger_mode_on_a_normal_database(installed_db):
    assert installed_db.value("SELECT to_regclass('pg_catalog.pg_dist_partition')") is None
    assert installed_db.value("SELECT pgmodelnames.messages_is_distributed()") is False
    result = installed_db.cli("upgrade", "--placeholders", "trigger")
    assert result.code == 0, result.err
    assert installed_db.value("SELECT mode FROM pgmodelnames.sweep_state") == "trigger"


def test_unknown_mode_is_a_usage_error(installed_minimal):
    result = installed_minimal.cli("upgrade", "--placeholders", "cron")
    assert result.code == 2


# --- pg_cron -------------------------------------------------------------------------------------


def test_schedule_without_pg_cron_is_one_line(swept_db):
    result = swept_db.cli("sweep", "--schedule")
    assert result.code == 4 and "pg_cron is not installed" in result.err and result.err.count("\n") == 1


class CronApp:
    """The CLI against the pg_cron cluster's database (as AppDB.cli does for the test servers)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def cli(self, *args: str, url: str | None = None):
        import contextlib
        import io
        from types import SimpleNamespace

        from pgmodelnames.cli import main

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(["--database-url", url or self.url, *args])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
        return SimpleNamespace(code=code, out=out.getvalue(), err=err.getvalue())


def test_pg_cron_runs_the_sweep_on_a_real_cluster(cron_server, server):
    if server.name != first_server():
        pytest.skip("one pg_cron cluster for the session: checked once")
    url = cron_server.url()

    with cron_server.connect() as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_cron")
        conn.execute(SCHEMA_MINIMAL.read_text())
        conn.execute("CREATE INDEX ON public.messages (created_at)")
    db = CronApp(url)
    try:
        assert db.cli("upgrade", "--placeholders", "sweep", url=url).code == 0
        scheduled = db.cli("sweep", "--schedule", url=url)
        assert scheduled.code == 0, scheduled.err
        assert "pgmodelnames-sweep" in scheduled.out and "pgmodelnames-full-sweep" in scheduled.out
        model = uuid.uuid4()
        with cron_server.connect() as conn:
            insert(conn, model)
            assert conn.execute("SELECT count(*) FROM public.llm_models").fetchone()[0] == 0

        def swept():
            with cron_server.connect() as conn:
                failed = conn.execute(
                    "SELECT d.return_message FROM cron.job_run_details d JOIN cron.job j USING (jobid) "
                    "WHERE j.jobname = 'pgmodelnames-sweep' AND d.status = 'failed'").fetchall()
                if failed:
                    raise Abort(f"the pg_cron sweep failed: {failed}")
                return conn.execute("SELECT count(*) FROM public.llm_models WHERE id = %s",
                                    (str(model),)).fetchone()[0] == 1

        wait_until(swept, JOB_DEADLINE, "the pg_cron sweep's placeholder", interval=0.5)
        doctor = db.cli("doctor", url=url).out
        assert "pg_cron                   pgmodelnames-full-sweep '17 3 * * *', pgmodelnames-sweep '* * * * *'" \
            in doctor
        # Back to trigger mode unschedules; uninstall leaves nothing either way.
        assert db.cli("upgrade", "--placeholders", "trigger", url=url).code == 0
        with cron_server.connect() as conn:
            assert conn.execute("SELECT count(*) FROM cron.job WHERE jobname LIKE 'pgmodelnames%'").fetchone()[0] == 0
        assert db.cli("upgrade", "--placeholders", "sweep", url=url).code == 0
        # ... and back to sweep mode schedules them again, as they were.
        with cron_server.connect() as conn:
            assert conn.execute("SELECT jobname, schedule FROM cron.job WHERE jobname LIKE 'pgmodelnames%' "
                                "ORDER BY 1").fetchall() == [("pgmodelnames-full-sweep", "17 3 * * *"),
                                                             ("pgmodelnames-sweep", "* * * * *")]
        assert db.cli("sweep", "--schedule", "*/5 * * * *", url=url).code == 0
        assert db.cli("uninstall", url=url).code == 0
        with cron_server.connect() as conn:
            assert conn.execute("SELECT count(*) FROM cron.job WHERE jobname LIKE 'pgmodelnames%'").fetchone()[0] == 0
            assert conn.execute("SELECT to_regnamespace('pgmodelnames')").fetchone()[0] is None
    finally:
        with cron_server.connect() as conn:
            conn.execute("SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname LIKE 'pgmodelnames%'")
            conn.execute("DROP TABLE IF EXISTS public.messages, public.llm_models")
            conn.execute("DROP SCHEMA IF EXISTS pgmodelnames CASCADE")


def test_every_function_has_a_pinned_search_path(swept_db):
    """Supabase's advisor (function_search_path_mutable): every function pgmodelnames installs,
    0005's included, has SET search_path."""
    unpinned = swept_db.query("""
        SELECT p.oid::regprocedure::text FROM pg_proc p
         WHERE (p.pronamespace = 'pgmodelnames'::regnamespace OR p.proname = 'model_display_name')
           AND NOT EXISTS (SELECT FROM unnest(coalesce(p.proconfig, '{}')) AS c WHERE c LIKE 'search_path=%')""")
    assert unpinned == []
    assert swept_db.value("SELECT count(*) FROM pg_policy WHERE polrelid = 'pgmodelnames.sweep_state'::regclass") == 1
    assert swept_db.value("SELECT relrowsecurity FROM pg_class WHERE oid = 'pgmodelnames.sweep_state'::regclass")


def test_an_explicit_identity_far_ahead_does_not_carry_the_mark(make_db):
    """The mark of an identity column follows the sequence, not the column's largest value."""
    db = make_db("minimal", installed=True)
    db.execute("ALTER TABLE public.messages ADD COLUMN seq bigint GENERATED BY DEFAULT AS IDENTITY")
    db.execute("CREATE INDEX ON public.messages (seq)")
    to_sweep(db)
    ahead = uuid.uuid4()
    db.execute("INSERT INTO public.messages (model_id, provider, seq) VALUES (%s, 'vllm', 1000000000000)", (ahead,))
    first = sweep(db)
    assert first["created"] == 1 and int(first["high_water_mark"]) < 1000
    later = uuid.uuid4()
    with db.connect() as conn:
        insert(conn, later)  # gets its value from the sequence, far below the explicit one
    assert sweep(db)["created"] == 1 and has_model(db, later)


def test_a_clock_far_ahead_does_not_carry_the_mark(swept_db):
    ahead = uuid.uuid4()
    swept_db.execute("INSERT INTO public.messages (model_id, provider, created_at) "
                     "VALUES (%s, 'vllm', now() + interval '1 year')", (str(ahead),))
    first = sweep(swept_db)
    assert first["created"] == 1 and first["high_water_mark"] < "2100"
    assert swept_db.value("SELECT mark_time < now() + interval '1 minute' FROM pgmodelnames.sweep_state")
    later = uuid.uuid4()
    with swept_db.connect() as conn:
        insert(conn, later)
    assert sweep(swept_db)["created"] == 1 and has_model(swept_db, later)


def test_the_doctor_says_what_only_a_full_sweep_reaches(swept_db):
    sweep(swept_db)
    imported = uuid.uuid4()
    swept_db.execute("INSERT INTO public.messages (model_id, provider, created_at) VALUES (%s, 'vllm', '2001-01-01')",
                     (str(imported),))
    assert sweep(swept_db)["created"] == 0
    report = json.loads(swept_db.cli("doctor", "--json").out)
    assert report["placeholder_mode"]["below_mark_model_ids"] == 1
    problem = next(p for p in report["problems"] if p["code"] == "sweep_below_mark")
    assert problem["next_steps"][0] == "pgmodelnames sweep --full"
    assert "sweep_waiting" not in {n["code"] for n in report["notes"]}
    assert swept_db.cli("sweep", "--full").code == 0 and has_model(swept_db, imported)
    report = json.loads(swept_db.cli("doctor", "--json").out)
    assert report["placeholder_mode"]["below_mark_model_ids"] == 0


def test_the_index_method_without_an_index_says_why_it_reads_everything(make_db):
    db = make_db("minimal", installed=True)
    to_sweep(db)
    with db.connect() as conn:
        warnings = []
        conn.add_notice_handler(lambda notice: warnings.append((notice.message_primary, notice.message_hint)))
        assert conn.execute("SELECT pgmodelnames.set_sweep_method('index')").fetchone()[0] == "full"
    assert warnings == [("pgmodelnames: messages has no valid btree index on model_id: the sweep reads all of "
                         "messages until it has one", 'CREATE INDEX CONCURRENTLY ON "public".messages (model_id);')]
    report = json.loads(db.cli("doctor", "--json").out)
    note = next(n for n in report["notes"] if n["code"] == "sweep_reads_everything")
    assert any("messages (model_id)" in step for step in note["next_steps"])
