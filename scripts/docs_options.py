#!/usr/bin/env python3
"""docs/configuration.md's list of every option of every command, made from
the one source of them, the command line's parser (pgmodelnames.cli).

    scripts/docs_options.py           # rewrite the list in docs/configuration.md
    scripts/docs_options.py --check   # exit 1 if the file differs (tests/test_docs.py runs it)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pgmodelnames.cli import build_parser  # noqa: E402

DOC = ROOT / "docs" / "configuration.md"
BEGIN = "<!-- options: made by scripts/docs_options.py from the parser; do not edit by hand -->"
END = "<!-- end of options -->"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _flag(action: argparse.Action) -> str:
    names = ", ".join(action.option_strings) or action.dest.upper()
    takes = action.nargs != 0 and not isinstance(action, (argparse._StoreTrueAction, argparse._VersionAction))
    if takes and action.option_strings:
        names += f" {action.metavar or action.dest.upper()}"
    return f"`{names}`"


def table() -> str:
    parser = build_parser()
    rows = ["| command | option | what it does |", "|---|---|---|"]
    for action in parser._actions:
        if action.option_strings and action.help != argparse.SUPPRESS and not isinstance(action, argparse._HelpAction):
            rows.append(f"| (every command) | {_flag(action)} | {_cell(action.help or '')} |")
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in commands.choices.items():
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction) or action.dest in ("database_url", "schema"):
                continue
            rows.append(f"| `{name}` | {_flag(action)} | {_cell(action.help or 'positional')} |")
    return "\n".join([BEGIN, "", *rows, "", END])


def main(argv: list[str]) -> int:
    text = DOC.read_text()
    start, stop = text.index(BEGIN), text.index(END) + len(END)
    wanted = text[:start] + table() + text[stop:]
    if "--check" in argv:
        if wanted != text:
            print("docs/configuration.md: the option list differs from the parser: run scripts/docs_options.py",
                  file=sys.stderr)
            return 1
        return 0
    DOC.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
