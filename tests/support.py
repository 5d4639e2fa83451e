"""Plain helpers and constants shared by the test modules (no fixtures here:
those live in conftest.py and the plugin modules it registers).

Test modules import from here, never from one another.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from pathlib import Path

# The two app users of the fixture data (both exist in the Supabase schema's auth.users).
ALICE = "aaaaaaaa-0000-4000-8000-000000000001"
BOB = "bbbbbbbb-0000-4000-8000-000000000002"

# The role that must log in with a password on the embedded server (so that a wrong one can be tested).
PASSWORD_ROLE = "pmn_password_user"


# ----------------------------------------------------------------- servers under test

def wanted_servers() -> list[str]:
    """The servers PGMODELNAMES_TEST_SERVERS selects, in order (default: system, embedded)."""
    return [s.strip() for s in os.environ.get("PGMODELNAMES_TEST_SERVERS", "system,embedded").split(",") if s.strip()]


def first_server() -> str:
    """The name of the first selected server: checks that need no second server run on it alone."""
    return wanted_servers()[0]


def closed_port() -> int:
    """A local TCP port that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


# ----------------------------------------------------------------- app data

def seed_problem(db) -> None:
    """The problem's data: unknown vLLM models, blank and UUID names."""
    db.execute("""
        INSERT INTO public.llm_models (id, name, model_id, provider, base_url) VALUES
          ('11111111-1111-4111-8111-111111111111', NULL, '', 'vllm', ''),
          ('22222222-2222-4222-8222-222222222222', '   ', 'llama-3-8b', 'vllm', 'http://gpu:8000'),
          ('33333333-3333-4333-8333-333333333333', '33333333-3333-4333-8333-333333333333', '', 'vllm', ''),
          ('44444444-4444-4444-8444-444444444444', 'GPT-4o', 'gpt-4o', 'openai', 'https://api.openai.com')
    """)
    db.execute("""
        INSERT INTO public.messages (model_id, provider, content) VALUES
          ('fdab6388-0000-4000-8000-000000000001', 'vllm', 'a'),
          ('fdab6388-0000-4000-8000-000000000001', 'vLLM ', 'b'),
          ('0badcafe-0000-4000-8000-000000000002', 'vllm', 'c'),
          ('44444444-4444-4444-8444-444444444444', 'openai', 'd')
    """)


def add_model(db, model: str | None = None, name: str | None = None, *, provider: str = "vllm",
              base_url: str | None = None, model_id: str | None = None, served: str | None = None) -> str:
    """Insert an llm_models row the way an app would (once installed, the guard fills a missing
    name) and return its id: add_model(db, UUID, NAME) or add_model(db, name=..., base_url=...).

    In the Supabase schema base_url and model_id are NOT NULL without a default: '' stands in
    for a missing one there."""
    model = model or str(uuid.uuid4())
    if db.kind == "supabase":
        base_url, model_id = base_url or "", model_id or ""
    db.execute("INSERT INTO llm_models (id, name, provider, base_url, model_id, served_model_name) "
               "VALUES (%s, %s, %s, %s, %s, %s)", (model, name, provider, base_url, model_id, served))
    return model


# ----------------------------------------------------------------- sessions

def as_role(conn, role: str, user: str | None = None) -> None:
    """Make CONN act as an app role, as Supabase's API does: the JWT subject (auth.uid()) is USER."""
    conn.execute("SELECT set_config('request.jwt.claim.sub', %s, false)", (user or "",))
    conn.execute(f"SET ROLE {role}")


def wait_for_lock_wait(db, *, seconds: float, not_pid: int | None = None) -> bool:
    """Poll pg_stat_activity until a session in DB's database waits on a lock
    (wait_event_type = 'Lock'), other than NOT_PID; False if none did within SECONDS."""
    deadline = time.monotonic() + seconds
    with db.connect() as monitor:
        while True:
            if monitor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid IS DISTINCT FROM %s", (not_pid,)).fetchone()[0]:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)


# ----------------------------------------------------------------- pgmodelnames 0.1

LEGACY_SCRIPT = Path(__file__).parent / "fixtures" / "legacy" / "pgmodelnames-0.1-upgrade-0005.sql"
LEGACY_REVISIONS = ("0001", "0002", "0003", "0004", "0005")


def legacy_script(revision: str) -> str:
    """The printed install script of pgmodelnames 0.1 up to REVISION (schema public): every line
    through that revision's version row and the COMMIT AND CHAIN after it, then the script's end."""
    lines = LEGACY_SCRIPT.read_text().splitlines(keepends=True)
    marker = (f"VALUES ('{revision}')" if revision == "0001" else f"SET version_num='{revision}'")
    at = next(i for i, line in enumerate(lines) if "alembic_version" in line and marker in line)
    through = next(i for i in range(at, len(lines)) if lines[i].startswith("COMMIT AND CHAIN;"))
    footer = next(i for i in range(len(lines) - 1, 0, -1) if lines[i].startswith("-- Release the migration lock"))
    return "".join(lines[:through + 1] + lines[footer:])


def legacy_install(db, revision: str) -> None:
    """Install pgmodelnames 0.1 at REVISION into DB, as a user of 0.1 did (psql -f the printed script)."""
    result = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db.url],
                            input=legacy_script(revision), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert db.value("SELECT version_num FROM pgmodelnames.alembic_version") == revision


def legacy_half_install(db) -> None:
    """What a failed apply of pgmodelnames 0.1's printed script left: revision 0001 and the first
    committed part of 0002 (the guard trigger, the CHECK constraint, names filled by UPDATE),
    no view, no placeholder trigger."""
    lines = LEGACY_SCRIPT.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if "VALUES ('0001')" in line)
    chains = [i for i in range(at, len(lines)) if lines[i].startswith("COMMIT AND CHAIN;")]
    script = "".join(lines[:chains[1] + 1]) + "ROLLBACK;\n"
    result = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db.url],
                            input=script, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert db.value("SELECT count(*) FROM pg_trigger WHERE tgname = 'pgmodelnames_name_guard'") == 1
    assert db.value("SELECT to_regclass('public.model_display_names')") is None
