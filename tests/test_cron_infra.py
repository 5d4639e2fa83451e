"""The pg_cron test component (tests/cron_cluster.py): a PostgreSQL 15 with
pg_cron preloaded, where CREATE EXTENSION pg_cron works and scheduled jobs
really run."""

from __future__ import annotations

import os
import time
import uuid

import psycopg
import pytest

from cron_cluster import JOB_DEADLINE, CronCluster, cron_server  # noqa: F401 (fixture)
from unprivileged import AS_NOBODY, Abort, wait_until


def test_cluster_is_postgresql_15_with_pg_cron_preloaded(cron_server):
    with cron_server.connect() as conn:
        assert conn.info.server_version // 10000 == 15
        assert conn.execute("SHOW shared_preload_libraries").fetchone()[0] == "pg_cron"
        assert conn.execute("SHOW cron.database_name").fetchone()[0] == "postgres"
        assert conn.execute("SHOW fsync").fetchone()[0] == "off"
        assert conn.execute("SELECT current_user").fetchone()[0] == "postgres"
        assert conn.execute("SELECT inet_server_addr()::text").fetchone()[0] in ("127.0.0.1", "127.0.0.1/32")
        # The scheduler is running.
        assert conn.execute("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_cron launcher'"
                            ).fetchone()[0] == 1
    assert cron_server.port not in (5432, 6432)


def test_create_extension_pg_cron(cron_server):
    with cron_server.connect() as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_cron")
        version = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'").fetchone()[0]
        assert version.startswith("1.")
        assert conn.execute("SELECT to_regclass('cron.job') IS NOT NULL").fetchone()[0]


def test_pg_cron_only_in_its_database(cron_server):
    with cron_server.connect() as conn:
        name = f"pmn_cron_other_{uuid.uuid4().hex[:8]}"
        conn.execute(f"CREATE DATABASE {name}")
    try:
        with cron_server.connect(name) as other:
            with pytest.raises(psycopg.Error, match="can only create extension in database postgres"):
                other.execute("CREATE EXTENSION pg_cron")
    finally:
        with cron_server.connect() as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def test_scheduled_job_runs(cron_server):
    name = f"pmn_probe_{uuid.uuid4().hex[:8]}"
    with cron_server.connect() as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_cron")
        conn.execute(f"CREATE TABLE {name} (ran_at timestamptz NOT NULL DEFAULT now(), ran_by text)")
        # pg_cron 1.4: minute granularity, so the first run is at the next whole minute.
        job = conn.execute("SELECT cron.schedule(%s, '* * * * *', %s)",
                           (name, f"INSERT INTO {name} (ran_by) VALUES (current_user)")).fetchone()[0]
        scheduled = time.time()
    try:
        def succeeded():
            with cron_server.connect() as conn:
                rows = conn.execute("SELECT status, return_message FROM cron.job_run_details WHERE jobid = %s",
                                    (job,)).fetchall()
            failed = [row for row in rows if row[0] == "failed"]
            if failed:
                raise Abort(f"the pg_cron job failed: {failed}")
            return any(status == "succeeded" for status, _ in rows)

        try:
            wait_until(succeeded, JOB_DEADLINE, "the pg_cron job's first successful run", interval=0.5)
        except TimeoutError as exc:
            raise AssertionError(f"{exc}; server log:\n{cron_server.log()}") from None
        with cron_server.connect() as conn:
            rows = conn.execute(f"SELECT ran_by, extract(epoch FROM ran_at) FROM {name}").fetchall()
        assert rows and rows[0][0] == "postgres"
        assert rows[0][1] >= scheduled - 1
    finally:
        with cron_server.connect() as conn:
            conn.execute("SELECT cron.unschedule(%s)", (job,))
            conn.execute(f"DROP TABLE {name}")


def test_cluster_with_its_own_cron_database_and_cleanup():
    cluster = CronCluster(database="pmn_cron_db")
    with cluster:
        root, port = cluster.root, cluster.port
        assert oct(root.stat().st_mode & 0o777) == "0o700"
        if AS_NOBODY:
            assert root.stat().st_uid == 65534
            pid = int((root / "data" / "postmaster.pid").read_text().split()[0])
            assert os.stat(f"/proc/{pid}").st_uid == 65534
        with cluster.connect() as conn:
            assert conn.info.dbname == "pmn_cron_db"
            conn.execute("CREATE EXTENSION pg_cron")
            wait_until(lambda: conn.execute(
                "SELECT datname FROM pg_stat_activity WHERE backend_type = 'pg_cron launcher'"
            ).fetchone() == ("pmn_cron_db",), 15, "the pg_cron launcher in pmn_cron_db")
    assert not root.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=3).close()
