"""The per-module scores of the last mutation run (tests/mutation.sh), read
from mutmut's results in mutants/: killed (a timeout counts as killed) out
of all mutants, survivors and mutants no unit test reaches counting against."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from mutmut.stats import status_by_exit_code

KILLED = {"killed", "timeout", "caught by type check"}


def main() -> int:
    metas = sorted(Path("mutants/pgmodelnames").glob("*.py.meta"))
    if not metas:
        print("mutation_scores: no results in mutants/: run tests/mutation.sh", file=sys.stderr)
        return 2
    total_killed = total = 0
    print(f"{'module':<18} {'score':>6} {'killed':>7} {'mutants':>8}  not killed")
    for meta in metas:
        codes = json.loads(meta.read_text())["exit_code_by_key"].values()
        statuses = [status_by_exit_code[code] for code in codes]
        killed = sum(status in KILLED for status in statuses)
        others = {s: statuses.count(s) for s in sorted(set(statuses) - KILLED)}
        total_killed, total = total_killed + killed, total + len(statuses)
        print(f"{meta.name[:-len('.py.meta')]:<18} {100 * killed / len(statuses):5.1f}% {killed:>7} "
              f"{len(statuses):>8}  {', '.join(f'{n} {s}' for s, n in others.items()) or '-'}")
    print(f"{'all':<18} {100 * total_killed / total:5.1f}% {total_killed:>7} {total:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
