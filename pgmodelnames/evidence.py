"""What a person needs to recognise a model known only from messages: per
placeholder, how many messages name it, first and last seen, how many users
and conversations, and its share of the recent traffic.

Doctor and backfill (and so --assign and --watch) read it the same way, with
sql/diagnostics/placeholder_evidence.sql, filled in from messages' columns
(message_columns.sql): apps differ in which optional columns they have and
whether model_id is uuid or text. Only the placeholders' messages are read.
Never prints; returns JSON-ready dicts.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from pgmodelnames import sqlfiles

RECENT_DAYS = 7


def _sql(name: str, schema: str, **fragments: str) -> str:
    """A diagnostics file without its comment lines: the header documents the
    %(name)s parameters, which the driver must not mistake for real ones."""
    text = sqlfiles.render(f"diagnostics/{name}", schema, **fragments)
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))


def message_columns(conn: psycopg.Connection, schema: str) -> dict[str, dict[str, Any]]:
    rows = conn.execute(sqlfiles.render("diagnostics/message_columns.sql", schema)).fetchall()
    return {name: {"type": type_name, "is_uuid": is_uuid, "is_time": is_time}
            for name, type_name, is_uuid, is_time in rows}


def spellings(model: str) -> list[str]:
    """The UUID text a text model_id may hold for this model, as the
    placeholder trigger accepts it (canonical, any case, hyphens optional):
    lower and upper case, with and without hyphens."""
    canonical = str(uuid.UUID(model))
    bare = canonical.replace("-", "")
    return [canonical, canonical.upper(), bare, bare.upper()]


def fragments(columns: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The @markers@ of placeholder_evidence.sql for these messages columns
    (fixed SQL text chosen by which columns exist: nothing user-supplied)."""
    text_ids = not columns["model_id"]["is_uuid"]
    created = columns.get("created_at")
    return {
        "model_match": ("m.model_id = ANY (%(spellings)s::text[])" if text_ids
                        else "m.model_id = ANY (%(ids)s::uuid[])"),
        "model_key": "lower(m.model_id)::uuid" if text_ids else "m.model_id",
        "created_at": "m.created_at" if created and created["is_time"] else "NULL::timestamptz",
        "user_id": "m.user_id" if "user_id" in columns else "NULL::text",
        "conversation_id": "m.conversation_id" if "conversation_id" in columns else "NULL::text",
    }


def for_models(conn: psycopg.Connection, schema: str, models: list[str],
               recent_days: int = RECENT_DAYS) -> dict[str, dict[str, Any]]:
    """{model uuid: evidence} for these llm_models ids (a model no message
    names gets messages 0). Empty when there is nothing to ask."""
    if not models:
        return {}
    columns = message_columns(conn, schema)
    if "model_id" not in columns:
        return {}
    has_time = bool(columns.get("created_at", {}).get("is_time"))
    query = _sql("placeholder_evidence.sql", schema, **fragments(columns))
    params = {"ids": list(models), "spellings": [text for model in models for text in spellings(model)],
              "recent_days": recent_days}
    found = {row[0]: row for row in conn.execute(query, params).fetchall()}
    evidence = {}
    for model in models:
        row = found.get(str(uuid.UUID(model)))
        messages, first, last, users, conversations, recent, total, share = \
            row[1:] if row else (0, None, None, 0, 0, 0, None, None)
        evidence[model] = {
            "messages": messages,
            "first_seen": first,
            "last_seen": last,
            "users": users if "user_id" in columns else None,
            "conversations": conversations if "conversation_id" in columns else None,
            "recent_days": recent_days if has_time else None,
            "recent_messages": recent if has_time else None,
            "recent_total": total if has_time else None,
            "recent_share": float(share) if has_time and share is not None else None,
        }
    return evidence
