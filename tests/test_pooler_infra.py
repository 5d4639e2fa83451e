"""The PgBouncer test component (tests/pooler.py) behaves as the pooled tests
need: transaction mode really moves clients between server connections, and
session mode keeps a client on its own backend."""

from __future__ import annotations

import os
import threading

import psycopg

from pooler import PgBouncer, pgbouncer  # noqa: F401 (fixture)
from unprivileged import AS_NOBODY, wait_until

PID = "SELECT pg_backend_pid()"


def pid(conn: psycopg.Connection) -> int:
    return conn.execute(PID).fetchone()[0]


def server_backends(db) -> int:
    """Client backends on the server itself (not through the pooler) in db's database."""
    return db.value("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND backend_type = 'client backend' AND pid <> pg_backend_pid()")


def test_factory_starts_one_pooler_per_mode(server, pgbouncer):
    transaction = pgbouncer("transaction", server.host, server.port)
    session = pgbouncer("session", server.host, server.port)
    assert transaction is pgbouncer("transaction", server.host, server.port)
    assert transaction is not session and transaction.port != session.port
    assert transaction.port != 6432 and session.port != 6432  # never the Debian service's port
    assert transaction.version().startswith("PgBouncer 1.")
    config = {row["key"]: row["value"] for row in transaction.admin("SHOW CONFIG")}
    assert config["pool_mode"] == "transaction"
    assert config["default_pool_size"] == "4"
    assert int(config["max_client_conn"]) >= 200
    assert {row["key"]: row["value"] for row in session.admin("SHOW CONFIG")}["pool_mode"] == "session"
    with transaction.connect("postgres") as conn:
        assert conn.execute("SELECT current_user, inet_server_port()").fetchone() == (server.user, server.port)


def test_pgbouncer_runs_unprivileged_from_a_private_dir(server, pgbouncer):
    bouncer = pgbouncer("transaction", server.host, server.port)
    root = bouncer.root
    assert root is not None and (root / "pgbouncer.ini").exists() and (root / "userlist.txt").exists()
    assert oct(root.stat().st_mode & 0o777) == "0o700"
    status = open(f"/proc/{bouncer.process.pid}/status").read()
    uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
    if AS_NOBODY:
        assert root.stat().st_uid == 65534
        assert set(uids) == {"65534"}, status
    else:
        assert set(uids) == {str(os.geteuid())}


def test_transaction_mode_serves_two_clients_from_one_backend(server, pgbouncer, make_db):
    bouncer = pgbouncer("transaction", server.host, server.port)
    db = make_db()  # a database of its own: an empty pool
    with bouncer.connect(db.dbname) as a, bouncer.connect(db.dbname) as b:
        pid_a, pid_b = pid(a), pid(b)
        assert pid(a) == pid(b) == pid_a == pid_b  # both clients connected, one backend
        assert server_backends(db) == 1
        pool = bouncer.pool(db.dbname)
        assert pool["pool_mode"] == "transaction"
        assert pool["sv_active"] + pool["sv_idle"] + pool["sv_used"] == 1, pool


def test_transaction_mode_moves_a_client_while_another_holds_a_transaction(server, pgbouncer, make_db):
    bouncer = pgbouncer("transaction", server.host, server.port)
    db = make_db()
    with bouncer.connect(db.dbname) as a, bouncer.connect(db.dbname) as b:
        b_first = pid(b)
        with a.transaction():
            a_pid = pid(a)
            assert a_pid == b_first  # a took the backend b had just used
            b_second = pid(b)  # a holds it: b's next transaction goes elsewhere
            assert b_second != b_first
            assert pid(a) == a_pid  # inside its transaction a keeps its backend
            assert server_backends(db) == 2
        # Both backends are back in the pool; b lands on one of the two.
        assert pid(b) in {b_first, b_second}


def test_transaction_mode_session_state_follows_the_backend_not_the_client(server, pgbouncer, make_db):
    bouncer = pgbouncer("transaction", server.host, server.port)
    db = make_db()
    with bouncer.connect(db.dbname) as a, bouncer.connect(db.dbname) as b:
        a.execute("SET application_name = 'set_by_a'")
        assert pid(a) == pid(b)
        # The SET stayed on the backend, which now serves b.
        assert b.execute("SELECT current_setting('application_name')").fetchone()[0] == "set_by_a"


def test_transaction_mode_pool_size_caps_server_connections(server, pgbouncer, make_db):
    bouncer = pgbouncer("transaction", server.host, server.port, pool_size=2)
    assert bouncer.pool_size == 2
    db = make_db()
    a, b, c = (bouncer.connect(db.dbname) for _ in range(3))
    try:
        result: dict = {}
        a.execute("BEGIN")
        b.execute("BEGIN")
        held = {pid(a), pid(b)}
        assert len(held) == 2

        def third():
            try:
                result["pid"] = pid(c)
            except BaseException as exc:  # reported below
                result["error"] = exc

        thread = threading.Thread(target=third, daemon=True)
        thread.start()
        # c waits in PgBouncer for a server connection: the pool is full.
        wait_until(lambda: (bouncer.pool(db.dbname) or {}).get("cl_waiting") == 1, 15,
                   "the third client waiting for a server connection")
        assert thread.is_alive() and not result
        assert server_backends(db) == 2
        a.execute("COMMIT")
        thread.join(15)
        assert not thread.is_alive(), "the third client was not served after a transaction ended"
        assert "error" not in result, result
        assert result["pid"] in held
    finally:
        for conn in (a, b, c):
            conn.close()


def test_session_mode_keeps_a_client_on_its_backend(server, pgbouncer, make_db):
    bouncer = pgbouncer("session", server.host, server.port)
    db = make_db()
    with bouncer.connect(db.dbname) as a, bouncer.connect(db.dbname) as b:
        a.execute("SET application_name = 'set_by_a'")
        pids_a, pids_b = set(), set()
        for _ in range(5):
            pids_a.add(pid(a))
            with b.transaction():
                pids_b.add(pid(b))
        assert len(pids_a) == 1 and len(pids_b) == 1
        assert pids_a != pids_b
        assert a.execute("SELECT current_setting('application_name')").fetchone()[0] == "set_by_a"
        assert b.execute("SELECT current_setting('application_name')").fetchone()[0] != "set_by_a"
        assert server_backends(db) == 2
        assert bouncer.pool(db.dbname)["pool_mode"] == "session"


def test_stop_ends_the_process_and_removes_its_files(server):
    bouncer = PgBouncer(server.host, server.port, mode="session", pool_size=1)
    with bouncer:
        process, root, url = bouncer.process, bouncer.root, bouncer.url("postgres")
        with bouncer.connect("postgres") as conn:
            assert pid(conn) > 0
    assert process.poll() is not None
    assert not root.exists()
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.OperationalError:
        pass
    else:
        raise AssertionError("the stopped PgBouncer still accepts connections")
    bouncer.stop()  # twice is fine
