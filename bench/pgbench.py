"""Running pgbench with the scripts in bench/sql/pgbench/ and reading its output."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from db import CONTENT, N_MODELS, N_ORPHANS

if TYPE_CHECKING:
    from config import Config

SCRIPTS = Path(__file__).resolve().parent / "sql" / "pgbench"


def run(cfg: Config, db: str, script: str, seconds: float, sync: str, *, clients: int = 2,
        unknown_pct: int = 0, extra: list[str] | None = None, timed: bool = False) -> subprocess.CompletedProcess:
    """pgbench -M prepared with bench/sql/pgbench/<script>, synchronous_commit = sync.

    --quick runs a fixed number of transactions instead of a duration, unless
    the caller needs the duration (timed) to overlap something else."""
    env = dict(os.environ, PGOPTIONS=f"-c synchronous_commit={sync}")
    length = ["-t", "50"] if cfg.quick and not timed else ["-T", str(max(1, int(round(seconds))))]
    variables = [f"n_models={N_MODELS}", f"n_orphans={N_ORPHANS}", f"unknown_pct={unknown_pct}",
                 f"content={CONTENT}"]
    cmd = [cfg.pgbench, "-n", "-M", "prepared", "-c", str(clients), "-j", str(clients), *length,
           *(f"-D{v}" for v in variables), "-f", str(SCRIPTS / script), *(extra or []), cfg.url(db)]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode:
        raise SystemExit(f"pgbench failed on {db}: {r.stderr.strip()[-2000:]}")
    return r


def tps(r: subprocess.CompletedProcess) -> float:
    m = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", r.stdout)
    if not m:
        raise SystemExit("cannot parse pgbench output:\n" + r.stdout)
    return float(m.group(1))


def latencies(logdir: Path) -> list[tuple[float, float]]:
    """(epoch end time, latency ms) of every transaction in pgbench -l logs."""
    out = []
    for f in logdir.glob("pgbench_log.*"):
        for line in f.read_text().splitlines():
            p = line.split()
            if len(p) >= 6:
                end = int(p[4]) + int(p[5]) / 1e6
                out.append((end, int(p[2]) / 1000.0))
    return out
