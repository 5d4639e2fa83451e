"""The docs cannot drift from the program: the option list of
docs/configuration.md is the parser's (scripts/docs_options.py), its exit
codes are errors.EXIT_CODES, every transcript in README.md and docs/ is what
its commands print (scripts/docs_transcripts.py), and the README's
before/after tables are what `pgmodelnames demo` prints (test_demo.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from pgmodelnames import errors
from pgmodelnames.cli import build_parser
from support import first_server

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.unit
def test_the_option_list_is_the_parsers():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "docs_options.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_transcripts_are_what_the_commands_print(server):
    """The script runs every transcript's commands on a scratch database of this server, against
    local servers replaying recorded vLLM answers, and compares with the docs after the few
    replacements its docstring lists (ports, database, clock, the doctor's scan time)."""
    if server.name != first_server():
        pytest.skip("the transcripts are one story: run once, on the first server")
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "docs_transcripts.py"), "--check",
                             "--server", server.url("postgres")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


@pytest.mark.unit
def test_the_exit_code_table_is_errors_exit_codes():
    text = (ROOT / "docs" / "configuration.md").read_text()
    section = text[text.index("## Exit codes"):]
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", section, flags=re.MULTILINE)}
    assert documented == set(errors.EXIT_CODES)
    epilog = build_parser().epilog
    assert all(f"  {code:<3} " in epilog for code in errors.EXIT_CODES)


@pytest.mark.unit
def test_every_option_is_in_help_and_in_the_docs():
    text = (ROOT / "docs" / "configuration.md").read_text()
    parser = build_parser()
    commands = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, sub in commands.choices.items():
        help_text = sub.format_help()
        for action in sub._actions:
            for flag in action.option_strings:
                assert flag in help_text
                assert f"| `{name}` | `{flag}" in text or flag in ("-h", "--help", "--database-url", "--schema"), \
                    (name, flag)
