"""`pgmodelnames demo`: UUIDs before, names after, and nothing left behind."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import psycopg

from pgmodelnames import demo
from pgmodelnames.cli import main as cli_main

UNREGISTERED = ["fdab6388-2c1e-4c5a-9f0e-6b1d2a7c9e41", "3c9a1f07-5b2d-4e8f-a1c3-7d4e5f6a8b90",
                "8e2b4d61-9a0c-4f3e-b7d5-1c2e3f4a5b6c"]
EMPTY_NAME = "5a7d9c3e-1b2f-4d6a-8c0e-9f1a2b3c4d5e"


def demo_databases(server) -> list[str]:
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        return [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                           [demo.DEMO_DB_PREFIX + "%"])]


def sections(out: str) -> tuple[str, str]:
    """The analytics output before and after upgrade."""
    before = out[out.index("1. The problem"):out.index("2. What")]
    after = out[out.index("4. The same query"):out.index("5. `pgmodelnames doctor` now")]
    return before, after


def assert_story(out: str) -> None:
    before, after = sections(out)
    for model_uuid in [*UNREGISTERED, EMPTY_NAME]:
        assert re.search(rf"^\s+{model_uuid} \|", before, re.M), model_uuid  # a UUID is all analytics can show
        assert model_uuid not in after
    for name in ["Unknown vllm model fdab6388", "Unknown vllm model 3c9a1f07", "Unknown vllm model 8e2b4d61",
                 "Qwen/Qwen2.5-7B-Instruct", "GPT-4o mini"]:
        assert re.search(rf"^\s+{re.escape(name)} +\|", after, re.M), name
    assert "-> pgmodelnames upgrade" in out and "(exit code 1)" in out
    assert "upgraded nothing -> 0007" in out
    assert "'Unknown vllm model fdab6388' -> 'Llama 3.1 8B'" in out


README = Path(__file__).resolve().parent.parent / "README.md"


def readme_tables() -> list[list[str]]:
    """The README's before and after tables (its first two code blocks)."""
    blocks = re.findall(r"```\n(model +\|.*?)```", README.read_text(), flags=re.S)
    return [block.strip().splitlines() for block in blocks[:2]]


def test_demo_on_a_scratch_database(server, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", server.url("postgres"))
    assert cli_main(["demo"]) == 0
    out = capsys.readouterr().out
    assert_story(out)
    # The README shows exactly what the demo prints: its tables cannot drift.
    before, after = sections(out)
    for table, shown in zip(readme_tables(), (before, after), strict=True):
        printed = [line.strip() for line in shown.splitlines()]
        assert all(line.strip() in printed for line in table), (table, shown)
    name = re.search(r"scratch database (pgmodelnames_demo_[0-9a-f]{8}) on", out).group(1)
    assert f"dropped the scratch database {name}" in out
    assert name not in demo_databases(server)


def test_demo_cleans_up_after_an_interrupt(server, monkeypatch, capsys):
    created = []

    def interrupted(settings):
        from psycopg.conninfo import conninfo_to_dict

        created.append(conninfo_to_dict(settings.conninfo)["dbname"])
        raise KeyboardInterrupt

    monkeypatch.setattr(demo, "demonstrate", interrupted)
    assert cli_main(["--database-url", server.url("postgres"), "demo"]) == 130
    assert created and created[0].startswith(demo.DEMO_DB_PREFIX)
    assert created[0] not in demo_databases(server)
    assert "interrupted" in capsys.readouterr().err


def test_demo_on_a_temporary_embedded_server(monkeypatch, capsys):
    """Without DATABASE_URL: PostgreSQL 18 from the wheel, removed afterwards. Runs once, not per server."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(Path(__file__).parent)  # no alembic.ini here: the demo must not need one
    assert cli_main(["demo"]) == 0
    out = capsys.readouterr().out
    assert_story(out)
    found = re.search(r"temporary PostgreSQL 18\.\d+ on 127\.0\.0\.1:\d+, in (\S+) \(removed", out)
    assert found, out[:300]
    root = found.group(1)
    assert not Path(root).exists()
    assert subprocess.run(["pgrep", "-f", root], capture_output=True).returncode == 1  # no server left running
