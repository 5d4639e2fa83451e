"""The benchmark scripts still run (quick mode, tiny sizes). Not a measurement:
the figures live in BENCHMARKS.md; this only keeps bench/ from rotting."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid

import pytest

from pgmodelnames.config import resource_dir
from support import first_server


def test_bench_quick_mode_runs(server, tmp_path):
    if server.name != first_server():
        pytest.skip("the scripts are checked once, on the first server")
    pgbench = shutil.which("pgbench")
    assert pgbench, "pgbench is missing: it comes with Debian's postgresql-15 (scripts/test installs it)"
    script = resource_dir("migrations").parent / "bench" / "run.py"
    results = tmp_path / "results.json"
    completed = subprocess.run(
        [sys.executable, str(script), "--quick", "--only", "single,bulk,placeholder,analytics",
         "--server", f"postgresql://{server.user}@{server.host}:{server.port}",
         "--prefix", f"pmn_bench_test_{uuid.uuid4().hex[:8]}", "--json", str(results)],
        capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    assert "median" in completed.stdout
    measured = json.loads(results.read_text())
    assert measured, "the quick run recorded no measurement"
