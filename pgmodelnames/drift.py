"""What was changed outside pgmodelnames: the installed objects whose catalog
facts (sql/diagnostics/object_facts.sql) differ from those the last install
recorded. Read by the doctor, and by an upgrade at head, which then puts
them back (a repair). Returns data; never prints.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgmodelnames import sqlfiles

# Facts stored as hashes: say that they differ, not the hashes.
_HASHED = ("definition", "comment", "columns")


def read(conn: psycopg.Connection, schema: str) -> list[dict[str, Any]]:
    """Every object that differs from what was installed, described; [] before
    revision 0006 (nothing recorded to compare with). The caller's transaction
    must run with search_path = pg_catalog, pg_temp (definitions are compared
    as the server renders them)."""
    if conn.execute("SELECT to_regclass('pgmodelnames.installed_objects')").fetchone()[0] is None:
        return []
    rows = conn.execute(sqlfiles.render("diagnostics/drift.sql", schema)).fetchall()
    return [describe(obj, installed, now) for obj, installed, now in rows]


def describe(obj: str, installed: dict | None, now: dict | None) -> dict[str, Any]:
    """One differing object: what happened to it and which of its facts differ."""
    if now is None:
        return {"object": obj, "change": "missing", "differs": [], "detail": "dropped"}
    if installed is None:
        return {"object": obj, "change": "unexpected", "differs": [],
                "detail": "not installed by pgmodelnames (created by hand?)"}
    differs = sorted(key for key in {*installed, *now} if installed.get(key) != now.get(key))
    parts = []
    for key in differs:
        if key in _HASHED:
            parts.append(f"{key} differs")
        else:
            parts.append(f"{key} is {_shown(now.get(key))}, was {_shown(installed.get(key))}")
    return {"object": obj, "change": "changed", "differs": differs, "detail": "; ".join(parts)}


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if value == "D":
        return "disabled"
    if value == "O":
        return "enabled"
    return repr(value) if isinstance(value, str) else str(value)
