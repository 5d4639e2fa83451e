"""The command line of bench/run.py, parsed once into a read-only Config."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path


DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432"
# --quick proves the scripts work, it measures nothing: every size is tiny,
# and every variant still runs (the attribution ones too), so that each patch
# file is proven to apply.
QUICK = {"rounds": 1, "duration": 1, "rows": 2000, "big_rows": 20000, "upgrade_window": 4, "inserts": 10}


@dataclass(frozen=True)
class Config:
    server: str
    prefix: str
    workloads: tuple[str, ...]
    variants: frozenset[str]
    rounds: int
    duration: float
    rows: int
    big_rows: int
    upgrade_window: float
    inserts: int
    pgbench: str
    pgmodelnames: str
    quick: bool
    keep: bool
    reuse_big: bool
    json: Path | None

    def url(self, db: str) -> str:
        return f"{self.server}/{db}"

    def wants(self, variant: str) -> bool:
        return variant in self.variants


def parse(argv: list[str] | None, description: str, workload_names: tuple[str, ...],
          variant_names: tuple[str, ...], default_variants: tuple[str, ...]) -> Config:
    """The command line; the entry point passes the names it knows (so this module imports no workload)."""
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="tiny sizes, 1 round: proves the scripts work")
    p.add_argument("--only", default=",".join(workload_names), help="comma-separated: " + ",".join(workload_names))
    p.add_argument("--variants", default=None,
                   help="comma-separated subset of " + ",".join(variant_names)
                   + " (default: " + ",".join(default_variants) + "; --quick: all)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=float, default=10, help="seconds per pgbench run (single)")
    p.add_argument("--rows", type=int, default=1_000_000, help="rows per bulk insert")
    p.add_argument("--big-rows", type=int, default=10_000_000, help="messages in the big database (4-6)")
    p.add_argument("--upgrade-window", type=float, default=30, help="seconds of pgbench around each upgrade")
    p.add_argument("--inserts", type=int, default=200,
                   help="timed inserts of each kind per variant and round (placeholder)")
    p.add_argument("--server", default=os.environ.get("BENCH_SERVER", DEFAULT_SERVER),
                   help="server URL without database")
    p.add_argument("--prefix", default=None, help="database name prefix (default pgmodelnames_bench[_quick])")
    p.add_argument("--pgbench", default=shutil.which("pgbench") or "/usr/bin/pgbench")
    p.add_argument("--pgmodelnames", default=str(Path(sys.executable).with_name("pgmodelnames")))
    p.add_argument("--keep", action="store_true", help="keep the databases (reuse the big one with --reuse-big)")
    p.add_argument("--reuse-big", action="store_true", help="reuse an existing big template database")
    p.add_argument("--json", metavar="FILE", type=Path, help="also write every measurement as JSON")
    a = p.parse_args(argv)

    only = tuple(w.strip() for w in a.only.split(",") if w.strip())
    for w in only:
        if w not in workload_names:
            p.error(f"unknown workload {w!r}")
    listed = a.variants if a.variants is not None else ",".join(variant_names if a.quick else default_variants)
    chosen = {v.strip() for v in listed.split(",") if v.strip()}
    for v in sorted(chosen - set(variant_names)):
        p.error(f"unknown variant {v!r} (known: {', '.join(variant_names)})")
    sizes = QUICK if a.quick else {k: getattr(a, k) for k in QUICK}
    return Config(
        server=a.server,
        prefix=a.prefix or ("pgmodelnames_bench_quick" if a.quick else "pgmodelnames_bench"),
        workloads=only,
        variants=frozenset(chosen | {"base"}),   # every ratio needs its baseline
        pgbench=a.pgbench, pgmodelnames=a.pgmodelnames,
        quick=a.quick, keep=a.keep, reuse_big=a.reuse_big, json=a.json,
        **sizes)
