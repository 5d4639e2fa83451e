"""The pieces every report is drawn with: one table renderer, JSON, and a
placeholder that needs a person (its evidence and candidates), which both
the doctor and backfill show. Pure functions from data to strings.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from pgmodelnames import names
from pgmodelnames.served_models import cut, shown_or_none, listing


def table(rows: list[list[str]], indent: str = "  ", sep: str = "  ", header_rule: bool = False,
          align_numbers: bool = False) -> list[str]:
    """Rows of cells as aligned lines (the first row is the header when
    header_rule draws a rule under it, psql style)."""
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]

    def cell(value: str, width: int) -> str:
        numeric = align_numbers and value.replace(".", "", 1).lstrip("-").isdigit()
        return value.rjust(width) if numeric else value.ljust(width)

    lines = [indent + sep.join(cell(c, w) for c, w in zip(row, widths)).rstrip() for row in rows]
    if header_rule:
        rule = indent + sep.replace(" ", "-").replace("|", "+").join("-" * w for w in widths)
        lines.insert(1, rule)
    return lines


def _json_value(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


def as_json(document: Any, indent: int | None = 2) -> str:
    # Values from the database and from servers: no raw control, bidi or tag
    # character reaches whoever reads the document on a terminal.
    return names.json_safe(json.dumps(document, indent=indent, default=_json_value, ensure_ascii=False))


# ----------------------------------------------------------------- evidence and candidates

def _when(value: Any) -> str:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _share(share: float) -> str:
    percent = share * 100
    return "<1%" if 0 < percent < 1 else f"{percent:.0f}%"


def evidence_text(evidence: dict | None) -> str | None:
    """'42 messages, first 2026-11-02 09:14 UTC, last ..., 3 users, 7
    conversations, 31% of the last 7 days' messages' (what the app records)."""
    if evidence is None:
        return None
    if not evidence["messages"]:
        return "no message names it"
    parts = [plural(evidence["messages"], "message")]
    if evidence["first_seen"] is not None:
        parts.append(f"first {_when(evidence['first_seen'])}, last {_when(evidence['last_seen'])}")
    if evidence["users"] is not None:
        parts.append(plural(evidence["users"], "user"))
    if evidence["conversations"] is not None:
        parts.append(plural(evidence["conversations"], "conversation"))
    if evidence["recent_days"] is not None:
        days = evidence["recent_days"]
        if not evidence["recent_messages"]:
            parts.append(f"none in the last {days} days")
        else:
            parts.append(f"{_share(evidence['recent_share'] or 0)} of the last {days} days' messages")
    return ", ".join(parts)


def _claim_text(candidate: dict, chosen_for: str | None = None) -> str:
    claimed = candidate["claimed_by"]
    texts = []
    if claimed:
        model, name = claimed[0]["model"], claimed[0]["name"]
        texts.append((f"row {model[:8]} {cut(name, 40)!r}" if model else "new row (--register-new)")
                     + (f" and {len(claimed) - 1} more" if len(claimed) > 1 else ""))
    if chosen_for is not None:
        texts.append(f"chosen above for {chosen_for[:8]}")
    return ", ".join(texts) or "no row yet"


def candidate_rows(candidates: list[dict], taken: dict[tuple[str, str], str] | None = None) -> list[list[str]]:
    """taken: (endpoint, served id) -> the placeholder an --assign answer above chose it for."""
    taken = taken or {}
    rows = []
    for c in candidates:
        if c["base"] is not None:
            kind = f"LoRA adapter on {cut(c['base'], 40)}"
        else:
            kind = "base model" + (f", also served as {listing(c['aliases'], 3, 40)}" if c["aliases"] else "")
        rows.append([f"{c['number']}.", cut(c["served_id"], 60), kind, c["endpoint"],
                     _claim_text(c, taken.get((c["endpoint"], c["served_id"])))])
    return rows


def placeholder_lines(entry: dict, max_candidates: int | None = 10, indent: str = "  ",
                      same_as_above: bool = False) -> list[str]:
    """One placeholder a person must name: why, the evidence, the candidates
    (those no row claims first; "the same as above" when the previous
    placeholder listed the very same), the ready-to-run commands."""
    lines = [f"{indent}{entry['model']}  {shown_or_none(entry['name'])!r}: {entry['reason']}"]
    more = indent + "    "
    seen = evidence_text(entry["evidence"])
    if seen:
        lines.append(f"{more}seen in: {seen}")
    candidates = entry["candidates"]
    if candidates and same_as_above:
        lines.append(f"{more}candidates: the same {len(candidates)} as above")
    elif candidates:
        free = sum(1 for c in candidates if not c["claimed_by"])
        lines.append(f"{more}candidates, the served models ({free} with no row yet):")
        shown = candidates if max_candidates is None else candidates[:max_candidates]
        lines += table(candidate_rows(shown), indent=more + "  ")
        if len(shown) < len(candidates):
            lines.append(f"{more}  and {len(candidates) - len(shown)} more (--json lists them all)")
    else:
        lines.append(f"{more}candidates: none (no server answered: name the one that serves it with --endpoint URL)")
    commands = entry["commands"]
    if entry["suggested"] is None and candidates:
        lines.append(f"{more}{entry['suggestion_note']}")
        lines.append(f"{more}name it after one:  {commands['map']}   (put the served id in place of SERVED_ID)")
    else:
        lines.append(f"{more}name it after one:  {commands['map']}")
    lines.append(f"{more}or name it by hand: {commands['rename']}")
    return lines


def placeholders_lines(entries: list[dict], indent: str = "  ") -> list[str]:
    lines, previous = [], None
    for entry in entries:
        lines += placeholder_lines(entry, indent=indent, same_as_above=entry["candidates"] == previous)
        previous = entry["candidates"]
    return lines


def new_placeholder_line(entry: dict) -> str:
    """--watch: a placeholder that appeared, on one line."""
    seen = evidence_text(entry["evidence"]) or "no evidence read"
    return (f"{time.strftime('%Y-%m-%d %H:%M:%S')} new placeholder {entry['model']} {shown_or_none(entry['name'])!r}: "
            f"{seen}; {entry['reason']}; to name it: {entry['commands']['map']}")


