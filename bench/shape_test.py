#!/usr/bin/env python3
"""The UUID-shape test alone: what each form costs per value, on one server.

    .venv/bin/python bench/shape_test.py postgresql://postgres@127.0.0.1:5432 [--rows 300000] [--rounds 5]

Creates and drops its own database (pgmodelnames_bench_shape). Evaluates each
form over N canonical UUID strings (what a covered vllm row carries, the case
the trigger's WHEN clause cannot skip) and over N plain ids (gpt-4o-mini-N),
in interleaved rounds; prints the median time per value above a bare count(*).
Forms: revision 0004's (length() and the full case-insensitive regex), and
revision 0005's as pgmodelnames.uuid_shape_test() builds it on this server.
"""

from __future__ import annotations

import argparse
import statistics
import time

import psycopg

OLD = ("(length(v) BETWEEN 32 AND 36 AND v ~* "
       "'^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$')")
NEW_15 = ("(CASE WHEN v LIKE '________-____-____-____-____________' THEN octet_length(replace(v, '-', '')) = 32 "
          "AND v ~* '^[-0-9a-f]+$' WHEN octet_length(v) = 32 THEN v ~* '^[0-9a-f]+$' ELSE octet_length(v) "
          "BETWEEN 33 AND 35 AND v ~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$' END)")
NEW_16 = ("(CASE WHEN v LIKE '________-____-____-____-____________' THEN pg_input_is_valid(v, 'uuid') "
          "WHEN octet_length(v) = 32 THEN pg_input_is_valid(v, 'uuid') ELSE octet_length(v) BETWEEN 33 AND 35 "
          "AND v ~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$' END)")
DB = "pgmodelnames_bench_shape"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("server")
    p.add_argument("--rows", type=int, default=300_000)
    p.add_argument("--rounds", type=int, default=5)
    a = p.parse_args()
    with psycopg.connect(f"{a.server}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB}")
        admin.execute(f"CREATE DATABASE {DB}")
    try:
        with psycopg.connect(f"{a.server}/{DB}", autocommit=True) as c:
            version = c.info.server_version
            forms = {"none": "true", "0004": OLD, "0005": NEW_16 if version >= 160000 else NEW_15}
            c.execute("CREATE UNLOGGED TABLE uuids AS SELECT gen_random_uuid()::text AS v "
                      "FROM generate_series(1, %s)", [a.rows])
            c.execute("CREATE UNLOGGED TABLE plain AS SELECT 'gpt-4o-mini-' || (g %% 30) AS v "
                      "FROM generate_series(1, %s) AS g", [a.rows])
            c.execute("VACUUM ANALYZE uuids")
            c.execute("VACUUM ANALYZE plain")
            c.execute("SET max_parallel_workers_per_gather = 0")
            print(f"PostgreSQL {c.execute('SHOW server_version').fetchone()[0]}, {a.rows:,} values per table, "
                  f"{a.rounds} interleaved rounds")
            for table in ("uuids", "plain"):
                times: dict[str, list[float]] = {k: [] for k in forms}
                for _ in range(a.rounds):
                    for name, expression in forms.items():
                        t0 = time.perf_counter()
                        c.execute(f"SELECT count(*) FROM {table} WHERE {expression}").fetchone()
                        times[name].append(time.perf_counter() - t0)
                base = times.pop("none")
                for name, xs in times.items():
                    per = [(x - b) / a.rows * 1e9 for x, b in zip(xs, base)]
                    print(f"  {table:6s} {name}: ns per value above count(*) "
                          f"[{', '.join(f'{v:.0f}' for v in per)}] median {statistics.median(per):.0f}")
    finally:
        with psycopg.connect(f"{a.server}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")


if __name__ == "__main__":
    main()
