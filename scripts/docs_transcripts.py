#!/usr/bin/env python3
"""The transcripts in README.md and docs/ (a `$ pgmodelnames ...` command and
what it printed), made by running those commands for real, one story on one
scratch database: the chat app of scripts/docs_transcripts/chatapp.sql and two
local HTTP servers replaying recorded vLLM 0.32 answers (tests/fixtures/vllm).

    scripts/docs_transcripts.py                # rewrite every transcript from a run
    scripts/docs_transcripts.py --check        # exit 1 if one differs (tests/test_docs.py runs it)
    scripts/docs_transcripts.py --server URL   # the PostgreSQL server for the scratch database
                                               # (default: PGHOST/PGPORT/PGUSER, else postgres@127.0.0.1:5432)

A transcript is the fenced block after a marker `<!-- transcript NAME: ... -->`;
a block that starts with `$ ` and has none is an error (it would be checked by
nothing). What a run prints is written as it is, but for these differences
between one run and the next, each replaced by the docs' value:
  - the servers' ports (random, 5 digits): the docs' 18101 and 18102;
  - the scratch database and its server in the doctor's first line: chatapp on 127.0.0.1:5432;
  - the clock: every message is dated from the minute the run starts, and every
    date printed is shifted by the difference to the docs' clock (CLOCK); the
    one time printed with seconds, a --watch line's, is the docs' clock;
  - the doctor's scan duration: 0.00 s.
The commands run as a person runs them, with DATABASE_URL set: through
pgmodelnames.cli.main with stdout and stderr in one stream; --assign on a
pseudo-terminal, answering each prompt once asked; --watch as a process,
sent SIGTERM during its second pass. Needs the test extra (pexpect,
pytest-httpserver).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import difflib
import io
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pexpect
import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from pgmodelnames.cli import main as cli_main  # noqa: E402
from pgmodelnames.output_backfill import ASSIGN_PROMPT, CONFIRM_PROMPT  # noqa: E402
from recorded_vllm import KEY, VllmServer  # noqa: E402

SCENARIO = Path(__file__).resolve().parent / "docs_transcripts"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKER = re.compile(r"<!-- transcript ([a-z0-9-]+): [^\n]*-->\n```\n(.*?)```\n", re.S)
CLOCK = dt.datetime(2026, 12, 1, 14, 56)  # the docs' clock (UTC)
PORTS = ("18101", "18102")  # the docs' ports: 5 digits, as the random ones, so that columns keep their widths
NEW_MODEL = "8c82c43b-b191-4102-8fe7-e2d459cdcbda"  # scripts/docs_transcripts/new_model.sql


@dataclass
class Step:
    block: str  # the transcript it goes into
    args: list[str]
    comment: str = ""  # shown after the command
    answers: list[tuple[str, str]] = field(default_factory=list)  # --assign: (prompt, answer)
    watch: bool = False


def steps(gpu1: str, gpu2: str) -> list[Step]:
    """The story, in the order it runs."""
    return [
        Step("doctor", ["doctor"]),
        Step("backfill-dry-run", ["backfill", "--dry-run"]),
        Step("backfill-assign", ["backfill", "--assign"], answers=[
            (ASSIGN_PROMPT, "9"), (ASSIGN_PROMPT, "1"), (ASSIGN_PROMPT, "Llama 3.1 8B (eval)"),
            (ASSIGN_PROMPT, "s"), (CONFIRM_PROMPT, "y")]),
        Step("backfill-endpoint", ["backfill", "--endpoint", gpu2, "--api-key-env", f"{gpu2}=GPU2_KEY"]),
        Step("backfill-endpoint", ["doctor"]),
        Step("backfill-watch", ["backfill", "--watch", "1"],
             comment="      # then a message names a new model UUID, then SIGTERM", watch=True),
        Step("rename", ["rename", NEW_MODEL, "Llama 3.1 8B"]),
    ]


# ----------------------------------------------------------------- running the commands

def run_here(args: list[str]) -> tuple[int, str]:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        code = cli_main(args)
    return code, printed.getvalue()


def command(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "pgmodelnames", *args]


def run_on_a_terminal(args: list[str], answers: list[tuple[str, str]]) -> tuple[int, str]:
    printed = io.StringIO()
    child = pexpect.spawn(command(args)[0], command(args)[1:], cwd=str(ROOT), encoding="utf-8", timeout=30,
                          dimensions=(60, 300))
    child.logfile_read = printed  # all it printed, and the answers as the terminal echoes them
    for prompt, answer in answers:
        child.expect_exact(prompt)  # answer only once asked, so the echo follows the question
        child.sendline(answer)
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus, printed.getvalue().replace("\r\n", "\n")


def run_watch(args: list[str], server: VllmServer, new_model: Callable[[], None]) -> tuple[int, str]:
    """The first pass, then a new model in messages, then SIGTERM once the second pass has begun:
    it finishes that pass and stops."""
    process = subprocess.Popen(command(args), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    try:
        reader.start()
        wait_for(lambda: lines, "the first pass's report")  # printed at once, after the pass read the database
        asked = len(server.requests())
        new_model()
        if len(server.requests()) != asked:
            raise RuntimeError("the second pass began before the new model was in messages")
        wait_for(lambda: len(server.requests()) > asked, "the second pass")
        process.send_signal(signal.SIGTERM)
        code = process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    reader.join(10)
    return code, "".join(lines)


def wait_for(condition, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come within {seconds:g} s")
        time.sleep(0.02)


def execute(url: str, sql: str, settings: dict[str, str]) -> None:
    """Run SQL with the scenario's settings (pmn_docs.clock, pmn_docs.gpu1, ...) in its session."""
    with psycopg.connect(url, autocommit=True) as conn:
        for name, value in settings.items():
            conn.execute("SELECT set_config(%s, %s, false)", (f"pmn_docs.{name}", value))
        conn.execute(sql)


# ----------------------------------------------------------------- the normalisation

def shell_words(args: list[str]) -> str:
    return " ".join(f'"{a}"' if " " in a else a for a in args)


def normalise(text: str, replace: dict[str, str], clock: dt.datetime) -> str:
    for real, shown in replace.items():
        text = text.replace(real, shown)

    def shifted(match: re.Match) -> str:
        if match.group(2):  # a --watch line's time: when the pass ran
            return CLOCK.strftime("%Y-%m-%d %H:%M:%S")
        return (dt.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M") + (CLOCK - clock)).strftime("%Y-%m-%d %H:%M")

    text = re.sub(r"\b(\d{4}-\d\d-\d\d \d\d:\d\d)(:\d\d)?\b", shifted, text)
    return re.sub(r"(scan, )\d+\.\d\d s\)", r"\g<1>0.00 s)", text)


# ----------------------------------------------------------------- the story

def free_server() -> VllmServer:
    """A recorded server on a 5-digit port (the docs' ports have 5)."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # its request log would go into the transcripts
    while len(str((server := VllmServer()).http.port)) != 5:
        server.stop()
    return server


def transcripts(server_url: str) -> dict[str, str]:
    """Run the story on a scratch database of that server: {block name: its text}."""
    info = conninfo_to_dict(server_url)
    dbname = f"pmn_docs_{uuid.uuid4().hex[:8]}"
    db = make_conninfo(server_url, dbname=dbname)
    gpu1, gpu2 = free_server().serve("c2_lora_multi_v1_models"), free_server().serve_with_key()
    urls = [f"http://localhost:{server.http.port}" for server in (gpu1, gpu2)]
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
        clock = conn.execute("SELECT date_trunc('minute', now() AT TIME ZONE 'UTC')").fetchone()[0]
    settings = {"clock": f"{clock:%Y-%m-%d %H:%M}+00", "gpu1": urls[0], "gpu2": urls[1]}
    # As a person runs them: the database in DATABASE_URL, the key of gpu2 in GPU2_KEY, no other
    # key or schema from this environment; the processes run this checkout's package.
    os.environ.update(DATABASE_URL=db, GPU2_KEY=KEY, PYTHONPATH=str(ROOT))
    for name in ("VLLM_API_KEY", "PGMODELNAMES_SCHEMA"):
        os.environ.pop(name, None)
    replace = {f"localhost:{server.http.port}": f"localhost:{port}" for server, port in zip((gpu1, gpu2), PORTS)}
    replace[f"database {dbname} on {info.get('host', '')}:{info.get('port', '5432')}"] = \
        "database chatapp on 127.0.0.1:5432"
    blocks: dict[str, list[str]] = {}
    try:
        execute(db, (ROOT / "tests" / "fixtures" / "schema_minimal.sql").read_text(), settings)
        code, printed = run_here(["upgrade"])
        if code != 0:
            raise RuntimeError(f"upgrade failed: {printed}")
        execute(db, (SCENARIO / "chatapp.sql").read_text(), settings)
        for step in steps(*urls):
            if step.answers:
                code, printed = run_on_a_terminal(step.args, step.answers)
            elif step.watch:
                code, printed = run_watch(step.args, gpu1,
                                          lambda: execute(db, (SCENARIO / "new_model.sql").read_text(), settings))
            else:
                code, printed = run_here(step.args)
            text = f"$ pgmodelnames {shell_words(step.args)}{step.comment}\n{printed}(exit code {code})\n"
            blocks.setdefault(step.block, []).append(normalise(text, replace, clock))
    finally:
        gpu1.stop()
        gpu2.stop()
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    return {name: "\n".join(texts) for name, texts in blocks.items()}


def default_server() -> str:
    return make_conninfo(host=os.environ.get("PGHOST", "127.0.0.1"), port=os.environ.get("PGPORT", "5432"),
                         user=os.environ.get("PGUSER", "postgres"), dbname="postgres")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a transcript differs; change nothing")
    parser.add_argument("--server", default=default_server(), help="PostgreSQL URL for the scratch database")
    args = parser.parse_args(argv)
    made = transcripts(args.server)
    diffs, problems, seen = [], [], set()
    for doc in DOCS:
        text = doc.read_text()
        name = doc.relative_to(ROOT)
        for block in re.findall(r"^```[a-z]*\n(\$ .*?)^```", MARKER.sub("", text), flags=re.S | re.M):
            problems.append(f"{name}: a transcript without a <!-- transcript NAME: ... --> marker, "
                            f"which no run checks: {block.splitlines()[0]}")

        def rewritten(match: re.Match) -> str:
            block, shown = match.group(1), match.group(2)
            seen.add(block)
            if block not in made:
                problems.append(f"{name}: the story makes no transcript {block}")
                return match.group(0)
            if shown != made[block]:
                diffs.append("\n".join(difflib.unified_diff(shown.splitlines(), made[block].splitlines(),
                                                            f"{name} ({block})", "a run now", lineterm="")))
            head = match.group(0)[:match.start(2) - match.start(0)]
            return f"{head}{made[block]}```\n"

        wanted = MARKER.sub(rewritten, text)
        if not args.check and wanted != text:
            doc.write_text(wanted)
    problems += [f"no doc has the transcript {block}" for block in made if block not in seen]
    if args.check and diffs:
        print("\n".join(diffs), file=sys.stderr)
        print("the transcripts differ from a real run: run scripts/docs_transcripts.py", file=sys.stderr)
    print("\n".join(problems), file=sys.stderr, end="\n" if problems else "")
    return 1 if problems or (args.check and diffs) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
