#!/usr/bin/env python3
"""pgmodelnames benchmarks: what the package costs, against no-trigger baselines.

Every comparison is interleaved (baseline, variant, baseline, variant, ...)
for --rounds rounds and reported as the median of per-round ratios against
the baseline measured in the same round, because shared machines are noisy.

    .venv/bin/python bench/run.py                      # everything (~25-30 min)
    .venv/bin/python bench/run.py --quick              # tiny sizes, seconds: proves the scripts work
    .venv/bin/python bench/run.py --only single,bulk   # a selection
    .venv/bin/python bench/run.py --only upgrade,analytics,doctor --big-rows 10000000

Workloads: single (pgbench single-row INSERTs), bulk (1M-row INSERT ... SELECT
and COPY), and in both the fk reference (workload 3); upgrade (pgmodelnames
upgrade on a big table while pgbench inserts), analytics (the view join
against the direct join), doctor (with and without an index on
messages(model_id)).

Needs: a local PostgreSQL (default postgresql://postgres@127.0.0.1:5432,
superuser: it creates and drops its own pgmodelnames_bench_* databases, runs
CHECKPOINT and server-side COPY), pgbench and psycopg, and pgmodelnames
installed in the same Python environment (or --pgmodelnames PATH).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
SERVER = "postgresql://postgres@127.0.0.1:5432"
N_MODELS = 30          # known models per provider (vllm, openai)
N_ORPHANS = 5000       # vllm model ids without llm_models row in the big database
CONTENT = "Sure! Here is a short answer to your question about PostgreSQL triggers."

# --------------------------------------------------------------------------- helpers


def log(msg: str = "") -> None:
    print(msg, flush=True)


def url(db: str) -> str:
    return f"{ARGS.server}/{db}"


def connect(db: str, **kw) -> psycopg.Connection:
    return psycopg.connect(url(db), autocommit=True, **kw)


def admin(sql: str) -> None:
    with connect("postgres") as c:
        c.execute(sql)


def drop_db(db: str) -> None:
    admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def create_db(db: str, template: str | None = None) -> None:
    drop_db(db)
    if template:
        admin(f'CREATE DATABASE "{db}" TEMPLATE "{template}" STRATEGY FILE_COPY')
    else:
        admin(f'CREATE DATABASE "{db}"')


def pmn(*args: str, db: str) -> subprocess.CompletedProcess:
    return subprocess.run([ARGS.pgmodelnames, "--database-url", url(db), *args],
                          capture_output=True, text=True)


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def fmt(xs: list[float], digits: int = 2) -> str:
    return "[" + ", ".join(f"{x:.{digits}f}" for x in xs) + "]"


RESULTS: dict = {}


def record(workload: str, name: str, **data) -> None:
    RESULTS.setdefault(workload, {})[name] = data


# --------------------------------------------------------------------------- schema

SCHEMA = """
CREATE TABLE public.llm_models (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id           uuid,
    name              text,
    model_id          text,
    provider          text,
    base_url          text,
    served_model_name text,
    enabled           boolean DEFAULT true,
    created_at        timestamptz DEFAULT now()
);
CREATE TABLE public.messages (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    conversation_id uuid,
    user_id         uuid,
    role            text,
    content         text,
    latency_ms      integer,
    model_id        {coltype},
    provider        text,
    created_at      timestamptz DEFAULT now()
);
-- the models the bench knows: N vllm + N openai, all named
CREATE TABLE public.bench_models AS
SELECT md5(p || '-' || i)::uuid AS id, p AS provider, p || '-model-' || i AS name
  FROM unnest(ARRAY['vllm', 'openai']) AS p, generate_series(1, {n}) AS i;
INSERT INTO public.llm_models (id, name, model_id, provider, base_url)
SELECT id, name, name, provider, 'http://' || provider || ':8000/v1' FROM public.bench_models;
"""


def model_expr(coltype: str, i: str, unknown_pct: float) -> str:
    """SQL for (model_id, provider) of row number i (an integer expression).

    Half the rows vllm with a known model, half openai (known uuid, or a plain
    text id like gpt-4o-mini-3 on a TEXT column); unknown_pct % of the rows
    carry a fresh vllm UUID that llm_models does not know."""
    cast = "::text" if coltype == "text" else ""
    openai = (f"md5('openai-' || ({i} % {N_MODELS} + 1))::uuid" if coltype == "uuid"
              else f"'gpt-4o-mini-' || ({i} % {N_MODELS} + 1)")
    every = int(round(100 / unknown_pct)) if unknown_pct else 0
    unk = f"WHEN {i} % {every} = 0 THEN gen_random_uuid(){cast} " if every else ""
    model = (f"CASE {unk}WHEN {i} % 2 = 0 THEN md5('vllm-' || ({i} / 2 % {N_MODELS} + 1))::uuid{cast} "
             f"ELSE {openai} END")
    unkp = f"{i} % {every} = 0 OR " if every else ""
    provider = f"CASE WHEN {unkp}{i} % 2 = 0 THEN 'vllm' ELSE 'openai' END"
    return model, provider


def reset_models(c: psycopg.Connection) -> None:
    """Back to the known models only (placeholders from an earlier run removed)."""
    c.execute("DELETE FROM public.llm_models l WHERE NOT EXISTS (SELECT FROM public.bench_models b WHERE b.id = l.id)")
    if c.execute("SELECT to_regclass('pgmodelnames.machine_names')").fetchone()[0]:
        c.execute("TRUNCATE pgmodelnames.machine_names")


VARIANTS = {
    "base": "no trigger (the limit)",
    "pmn": "pgmodelnames installed (sql/ as is)",
    "nosp": "pgmodelnames + ALTER FUNCTION ... RESET search_path",
    "prop": "pgmodelnames + bench/proposal.sql (no SET search_path, qualified operators)",
    "norx": "pgmodelnames, TEXT WHEN clause without the looks_like_uuid regex (attribution only, unsafe)",
    "fk": "plain FOREIGN KEY messages.model_id -> llm_models(id), no pgmodelnames",
    "floor": "pgmodelnames' trigger and WHEN clause calling an empty plpgsql function (what any row trigger costs)",
}


def variant_db(variant: str, coltype: str) -> str:
    return f"{ARGS.prefix}_{variant}_{coltype}"


def build_variant(variant: str, coltype: str) -> str:
    db = variant_db(variant, coltype)
    create_db(db)
    with connect(db) as c:
        c.execute(SCHEMA.format(coltype=coltype, n=N_MODELS))
        if variant == "fk":
            c.execute("ALTER TABLE public.messages ADD FOREIGN KEY (model_id) REFERENCES public.llm_models (id)")
    if variant in ("pmn", "nosp", "prop", "norx", "floor"):
        r = pmn("upgrade", db=db)
        if r.returncode:
            raise SystemExit(f"pgmodelnames upgrade failed on {db}: {r.stderr.strip()}")
        with connect(db) as c:
            if variant == "nosp":
                c.execute("ALTER FUNCTION pgmodelnames.messages_placeholder_uuid() RESET search_path")
                c.execute("ALTER FUNCTION pgmodelnames.messages_placeholder_text() RESET search_path")
            elif variant == "prop":
                c.execute((HERE / "proposal.sql").read_text().replace("@app_schema@", "public"))
            elif variant == "floor":
                for fn in ("messages_placeholder_uuid", "messages_placeholder_text"):
                    c.execute(f"CREATE OR REPLACE FUNCTION pgmodelnames.{fn}() RETURNS trigger "
                              "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$")
            elif variant == "norx":
                c.execute("""CREATE OR REPLACE TRIGGER zz_pgmodelnames_placeholder
                    BEFORE INSERT OR UPDATE OF model_id, provider ON public.messages FOR EACH ROW
                    WHEN (NEW.model_id IS NOT NULL AND lower(btrim(NEW.provider)) IN ('vllm')
                          AND length(NEW.model_id) = 36)
                    EXECUTE FUNCTION pgmodelnames.messages_placeholder_text()""")
    with connect(db) as c:
        c.execute("VACUUM ANALYZE")
    return db


# --------------------------------------------------------------------------- workload 1: single-row


def pgbench_script(coltype: str, unknown_pct: float) -> str:
    cast = "::text" if coltype == "text" else ""
    openai = (f"md5('openai-' || :m)::uuid" if coltype == "uuid" else "'gpt-4o-mini-' || :m")
    cols = "INSERT INTO public.messages (conversation_id, role, content, latency_ms, model_id, provider) VALUES "
    every = int(round(100 / unknown_pct)) if unknown_pct else 0
    lines = ["\\set r random(1, 1000000)", f"\\set m random(1, {N_MODELS})"]
    vllm = f"{cols}(NULL, 'assistant', '{CONTENT}', :r % 2000, md5('vllm-' || :m)::uuid{cast}, 'vllm');"
    other = f"{cols}(NULL, 'assistant', '{CONTENT}', :r % 2000, {openai}, 'openai');"
    if every:
        lines += [f"\\if :r % {every} = 0",
                  f"{cols}(NULL, 'assistant', '{CONTENT}', :r % 2000, gen_random_uuid(){cast}, 'vllm');",
                  "\\elif :r % 2 = 0", vllm, "\\else", other, "\\endif"]
    else:
        lines += ["\\if :r % 2 = 0", vllm, "\\else", other, "\\endif"]
    return "\n".join(lines) + "\n"


def run_pgbench(db: str, script: Path, seconds: float, sync: str, clients: int = 2,
                extra: list[str] | None = None, cwd: str | None = None,
                timed: bool = False) -> subprocess.CompletedProcess:
    env = dict(os.environ, PGOPTIONS=f"-c synchronous_commit={sync}")
    length = ["-t", "50"] if ARGS.quick and not timed else ["-T", str(max(1, int(round(seconds))))]
    cmd = [ARGS.pgbench, "-n", "-M", "prepared", "-c", str(clients), "-j", str(clients), *length, "-f", str(script), *(extra or []), url(db)]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    if r.returncode:
        raise SystemExit(f"pgbench failed on {db}: {r.stderr.strip()[-2000:]}")
    return r


def tps_of(out: str) -> float:
    m = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out)
    if not m:
        raise SystemExit("cannot parse pgbench output:\n" + out)
    return float(m.group(1))


def prepare_run(db: str) -> None:
    with connect(db) as c:
        c.execute("TRUNCATE public.messages")
        reset_models(c)
        c.execute("CHECKPOINT")


def workload_single(tmp: Path) -> None:
    log("\n== workload 1 (+3): single-row INSERTs, pgbench -M prepared, 2 clients ==")
    groups = [
        # (sync, coltype, unknown %, variants)
        ("on", "uuid", 0, ["base", "pmn", "fk"]),
        ("on", "text", 0, ["base", "pmn"]),
        ("off", "uuid", 0, ["base", "pmn", "nosp", "prop", "fk", "floor"]),
        ("off", "text", 0, ["base", "pmn", "nosp", "prop", "norx", "floor"]),
        ("off", "uuid", 1, ["base", "pmn"]),
        ("off", "text", 1, ["base", "pmn"]),
    ]
    for sync, coltype, unk, variants in groups:
        variants = [v for v in variants if v in ARGS.variants_set]
        script = tmp / f"insert_{coltype}_{unk}.sql"
        script.write_text(pgbench_script(coltype, unk))
        name = f"sync={sync} {coltype} {'known' if not unk else f'{unk}% unknown'}"
        tps: dict[str, list[float]] = {v: [] for v in variants}
        for rnd in range(ARGS.rounds):
            for v in variants:
                db = variant_db(v, coltype)
                prepare_run(db)
                tps[v].append(tps_of(run_pgbench(db, script, ARGS.duration, sync).stdout))
        log(f"-- {name}: TPS per round, ratio = variant TPS / base TPS (same round)")
        for v in variants:
            ratios = [t / b for t, b in zip(tps[v], tps["base"])]
            log(f"   {v:5s} tps {fmt(tps[v], 0)}  ratio {fmt(ratios)}  median {median(ratios):.3f}")
            record("single", f"{name} {v}", tps=tps[v], ratios=ratios, median=median(ratios))


# --------------------------------------------------------------------------- workload 2 (+3): bulk


def bulk_rows(unknown_pct: float) -> int:
    """The 1 % unknown mix creates a new placeholder per unknown row (every
    unknown row is a brand-new model, the worst case): run it at a tenth of
    the size, so it stays within the time budget."""
    return ARGS.rows if not unknown_pct else max(1000, ARGS.rows // 10)


def workload_bulk(tmp: Path) -> None:
    log(f"\n== workload 2 (+3): bulk {ARGS.rows:,} rows, INSERT ... SELECT and COPY ==")
    groups = [
        ("uuid", 0, ["base", "pmn", "nosp", "prop", "fk", "floor"]),
        ("text", 0, ["base", "pmn", "nosp", "prop", "norx", "floor"]),
        ("uuid", 1, ["base", "pmn"]),
        ("text", 1, ["base", "pmn"]),
    ]
    files = {}
    cols = "conversation_id, role, content, latency_ms, model_id, provider"
    # One source per (column type, mix): a COPY file (the server reads it) and a
    # staging table in each database for INSERT ... SELECT, so both sides insert
    # exactly the same rows and no row generation cost dilutes the ratio.
    filedir = Path(tempfile.mkdtemp(prefix="pgmodelnames_bench_"))
    os.chmod(filedir, 0o777)
    for coltype, unk, variants in groups:
        key = (coltype, unk)
        path = filedir / f"messages_{coltype}_{unk}.copy"
        model, provider = model_expr(coltype, "i", unk)
        with connect(variant_db("base", coltype)) as c:
            c.execute(f"""COPY (SELECT NULL::uuid, 'assistant', '{CONTENT}', i % 2000, {model}, {provider}
                               FROM generate_series(1, {bulk_rows(unk)}) AS i) TO '{path}'""")
        files[key] = path
    try:
        for coltype, unk, variants in groups:
            variants = [v for v in variants if v in ARGS.variants_set]
            path = files[(coltype, unk)]
            for v in variants:
                with connect(variant_db(v, coltype)) as c:
                    c.execute("DROP TABLE IF EXISTS public.bench_src")
                    c.execute(f"CREATE UNLOGGED TABLE public.bench_src AS SELECT {cols} FROM public.messages LIMIT 0")
                    c.execute(f"COPY public.bench_src FROM '{path}'")
                    c.execute("VACUUM ANALYZE public.bench_src")
            for op in ("insert-select", "copy"):
                name = (f"{op} {coltype} {'known' if not unk else f'{unk}% unknown'}"
                        f" ({bulk_rows(unk):,} rows)")
                secs: dict[str, list[float]] = {v: [] for v in variants}
                sql = (f"INSERT INTO public.messages ({cols}) SELECT {cols} FROM public.bench_src"
                       if op == "insert-select" else f"COPY public.messages ({cols}) FROM '{path}'")
                for rnd in range(ARGS.rounds):
                    for v in variants:
                        db = variant_db(v, coltype)
                        prepare_run(db)
                        with connect(db) as c:
                            t0 = time.perf_counter()
                            c.execute(sql)
                            secs[v].append(time.perf_counter() - t0)
                log(f"-- {name}: seconds per round, ratio = variant time / base time (same round)")
                for v in variants:
                    ratios = [t / b for t, b in zip(secs[v], secs["base"])]
                    log(f"   {v:5s} s {fmt(secs[v])}  ratio {fmt(ratios)}  median {median(ratios):.3f}")
                    record("bulk", f"{name} {v}", seconds=secs[v], ratios=ratios, median=median(ratios))
            for v in variants:
                with connect(variant_db(v, coltype)) as c:
                    c.execute("DROP TABLE IF EXISTS public.bench_src")
                    c.execute("TRUNCATE public.messages")
    finally:
        shutil.rmtree(filedir, ignore_errors=True)


# --------------------------------------------------------------------------- the big database (4-6)


def big_tpl() -> str:
    return f"{ARGS.prefix}_big_tpl"


def big_run() -> str:
    return f"{ARGS.prefix}_big_run"


def build_big() -> None:
    db = big_tpl()
    n = ARGS.big_rows
    log(f"\n== building {db}: {n:,} messages, {N_ORPHANS} orphaned vllm model ids ==")
    t0 = time.perf_counter()
    create_db(db)
    with connect(db) as c:
        c.execute(SCHEMA.format(coltype="uuid", n=N_MODELS))
        c.execute(f"CREATE TABLE public.bench_orphans AS SELECT md5('orphan-' || i)::uuid AS id "
                  f"FROM generate_series(1, {N_ORPHANS}) AS i")
        # 50 % openai (known), 45 % vllm known, 5 % vllm with one of the orphaned ids
        c.execute(f"""
            INSERT INTO public.messages (conversation_id, user_id, role, content, latency_ms, model_id, provider, created_at)
            SELECT NULL, md5('user-' || (i % 1000))::uuid, 'assistant', '{CONTENT}', (i::bigint * 7919 % 5000)::int,
                   CASE WHEN i % 2 = 1 THEN md5('openai-' || (i % {N_MODELS} + 1))::uuid
                        WHEN i % 20 = 0 THEN md5('orphan-' || ((i / 20) % {N_ORPHANS} + 1))::uuid
                        ELSE md5('vllm-' || (i / 2 % {N_MODELS} + 1))::uuid END,
                   CASE WHEN i % 2 = 1 THEN 'openai' ELSE 'vllm' END,
                   now() - (i % 100000) * interval '1 minute'
              FROM generate_series(1, {n}) AS i""")
        c.execute("VACUUM (FREEZE, ANALYZE)")
        size = c.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
    log(f"   built in {time.perf_counter() - t0:.0f} s, {size}")


def upgrade_script(tmp: Path) -> Path:
    """The app keeps inserting: known models, and 1 % with the orphaned ids."""
    cols = "INSERT INTO public.messages (conversation_id, role, content, latency_ms, model_id, provider) VALUES "
    script = tmp / "insert_during_upgrade.sql"
    script.write_text("\n".join([
        "\\set r random(1, 1000000)", f"\\set m random(1, {N_MODELS})", f"\\set o random(1, {N_ORPHANS})",
        "\\if :r % 100 = 0",
        f"{cols}(NULL, 'assistant', '{CONTENT}', :r % 2000, md5('orphan-' || :o)::uuid, 'vllm');",
        "\\elif :r % 2 = 0",
        f"{cols}(NULL, 'assistant', '{CONTENT}', :r % 2000, md5('vllm-' || :m)::uuid, 'vllm');",
        "\\else",
        f"{cols}(NULL, 'assistant', '{CONTENT}', :r % 2000, md5('openai-' || :m)::uuid, 'openai');",
        "\\endif", ""]))
    return script


def pgbench_latencies(logdir: Path) -> list[tuple[float, float]]:
    """(epoch end time, latency ms) of every transaction in pgbench -l logs."""
    out = []
    for f in logdir.glob("pgbench_log.*"):
        for line in f.read_text().splitlines():
            p = line.split()
            if len(p) >= 6:
                end = int(p[4]) + int(p[5]) / 1e6
                out.append((end, int(p[2]) / 1000.0))
    return out


def workload_upgrade(tmp: Path) -> None:
    log(f"\n== workload 4: pgmodelnames upgrade on {ARGS.big_rows:,} messages while pgbench (1 client, "
        "synchronous_commit on) inserts ==")
    script = upgrade_script(tmp)
    window = ARGS.upgrade_window
    res = {"alone_max": [], "during_max": [], "upgrade_s": [], "during_p99": [], "alone_p99": [],
           "placeholders": [], "tps_alone": [], "tps_during": []}
    for rnd in range(ARGS.rounds):
        db = big_run()
        create_db(db, template=big_tpl())
        with connect(db) as c:
            c.execute("SELECT count(*) FROM public.messages")   # warm the cache like a live database
        # A: pgbench alone, B: pgbench + upgrade, same duration, same fresh copy
        for mode in ("alone", "during"):
            logdir = tmp / f"up_{rnd}_{mode}"
            logdir.mkdir()
            result: dict = {}

            def bench():
                result["r"] = run_pgbench(db, script, window, "on", clients=1,
                                          extra=["-l", "--log-prefix", str(logdir / "pgbench_log")], timed=True)
            th = threading.Thread(target=bench)
            th.start()
            if mode == "during":
                time.sleep(2)
                t0 = time.perf_counter()
                start_epoch = time.time()
                r = pmn("upgrade", db=db)
                up = time.perf_counter() - t0
                end_epoch = time.time()
                if r.returncode:
                    raise SystemExit(f"upgrade failed: {r.stderr.strip()}")
            th.join()
            tps = tps_of(result["r"].stdout)
            lat = pgbench_latencies(logdir)
            if mode == "during":
                # the transactions that overlapped the upgrade (ended after it began)
                inwin = [l for e, l in lat if start_epoch <= e <= end_epoch + 1.0] or [0.0]
                res["upgrade_s"].append(up)
                res["during_max"].append(max(inwin))
                res["during_p99"].append(statistics.quantiles(inwin, n=100)[98] if len(inwin) > 100 else max(inwin))
                res["tps_during"].append(tps)
                if up + 3 > window:
                    log(f"   note: the upgrade took {up:.1f} s, longer than the pgbench window ({window} s)")
            else:
                lats = [l for _, l in lat]
                res["alone_max"].append(max(lats))
                res["alone_p99"].append(statistics.quantiles(lats, n=100)[98] if len(lats) > 100 else max(lats))
                res["tps_alone"].append(tps)
        with connect(db) as c:
            res["placeholders"].append(c.execute(
                "SELECT count(*) FROM pgmodelnames.machine_names WHERE source = 'placeholder'").fetchone()[0])
            orphans = c.execute("""SELECT count(DISTINCT m.model_id) FROM public.messages m
                WHERE m.provider = 'vllm' AND NOT EXISTS (SELECT FROM public.llm_models l WHERE l.id = m.model_id)
                """).fetchone()[0]
        log(f"   round {rnd + 1}: upgrade {res['upgrade_s'][-1]:.2f} s, longest insert during it "
            f"{res['during_max'][-1]:.1f} ms (p99 {res['during_p99'][-1]:.1f} ms), longest insert without upgrade "
            f"{res['alone_max'][-1]:.1f} ms, placeholders {res['placeholders'][-1]}, orphans left {orphans}")
    ratios = [d / a for d, a in zip(res["during_max"], res["alone_max"])]
    log(f"-- upgrade seconds {fmt(res['upgrade_s'])} median {median(res['upgrade_s']):.2f}")
    log(f"-- longest insert wait during upgrade, ms {fmt(res['during_max'], 1)} median {median(res['during_max']):.1f} "
        f"(target <= 200 ms)")
    log(f"-- longest insert without upgrade, ms {fmt(res['alone_max'], 1)} median {median(res['alone_max']):.1f}; "
        f"ratio {fmt(ratios)} median {median(ratios):.2f}")
    log(f"-- insert TPS alone {fmt(res['tps_alone'], 0)}, during {fmt(res['tps_during'], 0)}")
    record("upgrade", "upgrade", **res, ratios=ratios)
    # leave the last upgraded copy for analytics and doctor


def ensure_upgraded_big() -> str:
    db = big_run()
    with connect("postgres") as c:
        exists = c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone()
    if exists:
        with connect(db) as c:
            if c.execute("SELECT to_regclass('pgmodelnames.alembic_version')").fetchone()[0]:
                return db
    create_db(db, template=big_tpl())
    r = pmn("upgrade", db=db)
    if r.returncode:
        raise SystemExit(f"upgrade failed: {r.stderr.strip()}")
    return db


ANALYTICS = {
    "direct": """SELECT l.name, count(*) AS messages, avg(m.latency_ms) AS avg_latency_ms
                   FROM public.messages m JOIN public.llm_models l ON l.id = m.model_id
                  GROUP BY l.name""",
    "view": """SELECT d.display_name, count(*) AS messages, avg(m.latency_ms) AS avg_latency_ms
                 FROM public.messages m JOIN public.model_display_names d ON d.id = m.model_id
                GROUP BY d.display_name""",
}


def workload_analytics() -> None:
    log(f"\n== workload 5: analytics, messages per model (count, avg latency) on {ARGS.big_rows:,} messages ==")
    db = ensure_upgraded_big()
    with connect(db) as c:
        c.execute("ANALYZE")
        for q in ANALYTICS.values():   # warm up
            c.execute(q).fetchall()
        secs: dict[str, list[float]] = {k: [] for k in ANALYTICS}
        for rnd in range(ARGS.rounds):
            for k, q in ANALYTICS.items():
                t0 = time.perf_counter()
                rows = c.execute(q).fetchall()
                secs[k].append(time.perf_counter() - t0)
        groups = {k: len(c.execute(q).fetchall()) for k, q in ANALYTICS.items()}
    log("-- seconds per round, ratio = time / direct join time (same round)")
    for k in ANALYTICS:
        ratios = [t / b for t, b in zip(secs[k], secs["direct"])]
        log(f"   {k:11s} s {fmt(secs[k])}  ratio {fmt(ratios, 3)}  median {median(ratios):.3f}  ({groups[k]} groups)")
        record("analytics", k, seconds=secs[k], ratios=ratios, median=median(ratios), groups=groups[k])


def workload_doctor() -> None:
    log(f"\n== workload 6: pgmodelnames doctor on {ARGS.big_rows:,} messages ==")
    db = ensure_upgraded_big()
    probe = pmn("doctor", "--help", db=db)
    if probe.returncode:
        log("   SKIPPED: 'pgmodelnames doctor' is not available yet: " + (probe.stderr.strip() or probe.stdout.strip())[-300:])
        record("doctor", "skipped", reason="doctor not available")
        return
    for with_index in (False, True):
        with connect(db) as c:
            c.execute("DROP INDEX IF EXISTS public.bench_messages_model_id")
            if with_index:
                c.execute("CREATE INDEX bench_messages_model_id ON public.messages (model_id)")
            c.execute("ANALYZE public.messages")
        label = "with index on messages(model_id)" if with_index else "without index on messages(model_id)"
        secs, scans = [], []
        for rnd in range(ARGS.rounds):
            with connect(db) as c:   # baseline: one sequential scan of messages
                t0 = time.perf_counter()
                c.execute("SELECT count(*) FROM public.messages").fetchone()
                scans.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            r = pmn("doctor", "--json", db=db)
            secs.append(time.perf_counter() - t0)
            if r.returncode not in (0, 1):
                raise SystemExit(f"doctor failed ({r.returncode}): {r.stderr.strip()}")
        ratios = [d / s for d, s in zip(secs, scans)]
        log(f"-- {label}: doctor s {fmt(secs)} median {median(secs):.2f}; "
            f"ratio to one count(*) scan {fmt(ratios)} median {median(ratios):.2f}")
        record("doctor", label, seconds=secs, scan_seconds=scans, ratios=ratios, median_seconds=median(secs))
    with connect(db) as c:
        c.execute("DROP INDEX IF EXISTS public.bench_messages_model_id")


# --------------------------------------------------------------------------- main

WORKLOADS = ["single", "bulk", "upgrade", "analytics", "doctor"]


def main() -> int:
    global ARGS
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="tiny sizes, 1 round: proves the scripts work")
    p.add_argument("--only", default=",".join(WORKLOADS), help="comma-separated: " + ",".join(WORKLOADS))
    p.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset of " + ",".join(VARIANTS))
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=float, default=10, help="seconds per pgbench run (single)")
    p.add_argument("--rows", type=int, default=1_000_000, help="rows per bulk insert")
    p.add_argument("--big-rows", type=int, default=10_000_000, help="messages in the big database (4-6)")
    p.add_argument("--upgrade-window", type=float, default=30, help="seconds of pgbench around each upgrade")
    p.add_argument("--server", default=os.environ.get("BENCH_SERVER", SERVER), help="server URL without database")
    p.add_argument("--prefix", default=None, help="database name prefix (default pgmodelnames_bench[_quick])")
    p.add_argument("--pgbench", default=shutil.which("pgbench") or "/usr/bin/pgbench")
    p.add_argument("--pgmodelnames", default=str(Path(sys.executable).with_name("pgmodelnames")))
    p.add_argument("--keep", action="store_true", help="keep the databases (reuse the big one with --reuse-big)")
    p.add_argument("--reuse-big", action="store_true", help="reuse an existing big template database")
    p.add_argument("--json", metavar="FILE", help="also write every measurement as JSON")
    ARGS = p.parse_args()
    if ARGS.quick:
        ARGS.rounds, ARGS.duration, ARGS.rows, ARGS.big_rows, ARGS.upgrade_window = 1, 1, 2000, 20000, 4
        if ARGS.variants == ",".join(VARIANTS):
            ARGS.variants = "base,pmn,prop,fk"   # the other variants differ by one ALTER
    ARGS.prefix = ARGS.prefix or ("pgmodelnames_bench_quick" if ARGS.quick else "pgmodelnames_bench")
    only = [w.strip() for w in ARGS.only.split(",") if w.strip()]
    for w in only:
        if w not in WORKLOADS:
            p.error(f"unknown workload {w!r}")
    ARGS.variants_set = set(v.strip() for v in ARGS.variants.split(",")) | {"base"}

    with connect("postgres") as c:
        info = {k: c.execute(f"SHOW {k}").fetchone()[0] for k in
                ("server_version", "shared_buffers", "work_mem", "max_wal_size", "synchronous_commit",
                 "max_parallel_workers_per_gather", "wal_compression")}
    log(f"pgmodelnames bench: nproc {os.cpu_count()}, PostgreSQL {info}, rounds {ARGS.rounds}, "
        f"workloads {only}")
    started = time.perf_counter()
    made: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="pgmodelnames_bench_"))
    try:
        if {"single", "bulk"} & set(only):
            for coltype in ("uuid", "text"):
                for v in VARIANTS:
                    if v not in ARGS.variants_set or (v == "fk" and coltype == "text") or \
                            (v == "norx" and coltype == "uuid"):
                        continue
                    made.append(build_variant(v, coltype))
            if "single" in only:
                workload_single(tmp)
            if "bulk" in only:
                workload_bulk(tmp)
            if not ARGS.keep:
                for db in made:
                    drop_db(db)
        if {"upgrade", "analytics", "doctor"} & set(only):
            reuse = False
            if ARGS.reuse_big:
                with connect("postgres") as c:
                    reuse = bool(c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (big_tpl(),)).fetchone())
            if not reuse:
                build_big()
            made += [big_tpl(), big_run()]
            if "upgrade" in only:
                workload_upgrade(tmp)
            if "analytics" in only:
                workload_analytics()
            if "doctor" in only:
                workload_doctor()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if not ARGS.keep:
            for db in made:
                try:
                    drop_db(db)
                except psycopg.Error as exc:
                    log(f"could not drop {db}: {exc}")
    log(f"\ndone in {time.perf_counter() - started:.0f} s")
    if ARGS.json:
        Path(ARGS.json).write_text(json.dumps({"config": info, "results": RESULTS}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
