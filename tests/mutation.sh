#!/bin/sh
# Mutation testing of the pure modules (names, config, served_models,
# candidates, matching) with the unit tests alone (pytest -m unit): what it
# mutates and runs is [tool.mutmut] in pyproject.toml; how to read the
# result is tests/README.md, "Mutation testing". Not part of CI (minutes, not
# seconds). Arguments go to `mutmut run` (e.g. a mutant's name to retry it).
set -eu
cd "$(dirname "$0")/.."
venv=${VENV:-.venv}
if [ ! -x "$venv/bin/mutmut" ]; then
    echo "mutation.sh: mutmut is missing: $venv/bin/pip install -e '.[test,mutation]'" >&2
    exit 2
fi
# A fresh copy every run: mutmut keeps results across runs and would score a
# changed test against stale verdicts.
[ $# -gt 0 ] || rm -rf mutants
mkdir -p mutants
start=$(date +%s)
"$venv/bin/mutmut" run --max-children "${MUTATION_JOBS:-2}" "$@" >mutants/run.log 2>&1 || {
    tail -n 30 mutants/run.log >&2
    exit 1
}
"$venv/bin/python" tests/mutation_scores.py
echo "took $(( $(date +%s) - start )) s; survivors: $venv/bin/mutmut results, one: $venv/bin/mutmut show NAME"
