"""The command-line tools the tests run that come from npm (tests/tools/
package.json, installed there by scripts/test): the Supabase CLI in two
versions, squawk, the Postgres language server. A test that needs one and
does not find it fails in one line saying how to get it: it never skips."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

TOOLS = Path(__file__).parent / "tools"
MODULES = TOOLS / "node_modules"


def _wanted() -> dict[str, str]:
    return json.loads((TOOLS / "package.json").read_text())["dependencies"]


def _installed(package: str) -> Path:
    path = MODULES / package
    spec = _wanted()[package]
    version = spec.rsplit("@", 1)[1] if spec.startswith("npm:") else spec
    manifest = path / "package.json"
    if not manifest.is_file() or json.loads(manifest.read_text())["version"] != version:
        pytest.fail(f"{package} {version} is missing from tests/tools: run scripts/test "
                    f"(or npm install --prefix tests/tools)", pytrace=False)
    return path


SUPABASE_VERSIONS = tuple(name.removeprefix("supabase-") for name in _wanted() if name.startswith("supabase-"))


def supabase_cli(version: str) -> list[str]:
    """The command that runs Supabase CLI VERSION (node and its entry point)."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: install Node.js 20 (scripts/test needs it too)", pytrace=False)
    return [node, str(_installed(f"supabase-{version}") / "dist" / "supabase.js")]


def squawk() -> str:
    _installed("squawk-cli")
    return str(MODULES / ".bin" / "squawk")


def postgrestools() -> str:
    _installed("@postgrestools/postgrestools")
    return str(MODULES / ".bin" / "postgrestools")
