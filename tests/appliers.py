"""The ways users apply the printed install script, each run for real:
psql -f (with and without ON_ERROR_STOP), psql -1 -f, psql -c (the whole
script as one simple query, which is what Supabase's SQL editor sends), and
the Supabase CLI's `db push` and `migration up` in each pinned version."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tools import SUPABASE_VERSIONS, supabase_cli

PSQL_WAYS = ("psql -f", "psql -v ON_ERROR_STOP=1 -f", "psql -1 -f", "psql -c")
CLI_WAYS = tuple(f"supabase {version} {command}" for version in SUPABASE_VERSIONS
                 for command in ("db push", "migration up"))
WAYS = PSQL_WAYS + CLI_WAYS


def supabase_target(version: str, url: str) -> list[str]:
    """How each CLI version names a database by URL: 2.x --db-url, 3.x --remote=URL."""
    url = url + ("&" if "?" in url else "?") + "sslmode=disable"
    return ["--db-url", url] if version.startswith("2.") else [f"--remote={url}"]


def new_migration(project: Path, script: str) -> Path:
    """SCRIPT as the next file of PROJECT's supabase/migrations (as a user saves it)."""
    folder = project / "supabase" / "migrations"
    folder.mkdir(parents=True, exist_ok=True)
    number = len(list(folder.glob("*.sql"))) + 1
    path = folder / f"2026120{number}000000_pgmodelnames.sql"
    path.write_text(script)
    return path


def run_cli(version: str, command: str, url: str, project: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*supabase_cli(version), *command.split(), *supabase_target(version, url), "--yes"],
                          cwd=project, capture_output=True, text=True, timeout=300)


def apply(way: str, db, script: str, workdir: Path) -> subprocess.CompletedProcess:
    """Apply SCRIPT to DB the way WAY says; the completed process (returncode, output)."""
    if way.startswith("supabase "):
        _, version, command = way.split(" ", 2)
        new_migration(workdir, script)
        return run_cli(version, command, db.url, workdir)
    base = ["psql", "-X", "-q", "-d", db.url]
    if way == "psql -c":
        return subprocess.run([*base, "-c", script], capture_output=True, text=True, timeout=300)
    path = workdir / "install.sql"
    path.write_text(script)
    options = way.removeprefix("psql ").removesuffix("-f").split()
    return subprocess.run([*base, *options, "-f", str(path)], capture_output=True, text=True, timeout=300)
