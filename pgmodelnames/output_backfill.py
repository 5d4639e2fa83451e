"""What the command line shows for backfill: a pass as text or JSON, what
changed in a --watch pass, and the questions and plan of --assign, drawn
with render.py. Pure functions from reports to strings.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Iterable

from pgmodelnames import errors
from pgmodelnames.backfill import Report
from pgmodelnames.matching import Change
from pgmodelnames.render import (plural, as_json, candidate_rows, evidence_text, new_placeholder_line,
                                  placeholders_lines, table)
from pgmodelnames.served_models import cut, shown_or_none, listing

# ----------------------------------------------------------------- backfill

# Every --json document of backfill has these keys (also every line of --watch --json).
BACKFILL_JSON_KEYS = ("event", "at", "dry_run", "endpoints", "changes", "registered", "not_registered", "unmatched",
                      "unresolved_placeholders", "left_alone", "nothing_to_do", "sweep", "exit_code", "placeholder")


def backfill_json(report: Report, event: str = "pass", endpoints: list[dict] | None = None,
                  placeholder: dict | None = None) -> dict:
    """The report as one JSON document. event: "pass" (a whole pass),
    "changes" (--watch, a later pass: only what changed), "placeholder"
    (--watch: a new placeholder that needs a person, in placeholder; the
    lists are then empty)."""
    changes = [_change_json(change) for change in report.applied]
    document = {
        "event": event,
        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "dry_run": report.dry_run,
        "endpoints": report.endpoints if endpoints is None else endpoints,
        "changes": [c for c in changes if not c["registered"]],
        "registered": [c for c in changes if c["registered"]],
        "not_registered": _still_unregistered(report),
        "unmatched": report.plan.unmatched,
        "unresolved_placeholders": report.plan.unresolved,
        "left_alone": report.plan.left_alone,
        "nothing_to_do": not report.applied,
        "sweep": report.swept,
        "exit_code": report.exit_code,
        "placeholder": placeholder,
    }
    if event == "placeholder":
        for key in ("endpoints", "changes", "registered", "not_registered", "unmatched",
                    "unresolved_placeholders", "left_alone"):
            document[key] = []
    assert tuple(document) == BACKFILL_JSON_KEYS
    return document


def _still_unregistered(report: Report) -> list[dict]:
    registered = {(c.endpoint, c.served_id) for c in report.applied if c.registered}
    return [e for e in report.plan.not_registered if (e["endpoint"], e["served_id"]) not in registered]


def _change_json(change: Change) -> dict:
    data = asdict(change)
    data.pop("base_url")
    return data


def _endpoint_lines(entries: Iterable[dict]) -> list[str]:
    entries = list(entries)
    rows = []
    for entry in entries:
        if entry["status"] == "ok":
            detail = (f"{plural(len(entry['models']), 'model')}: "
                      f"{listing(_served_names(entry['models']), 5, 60)}")
        else:
            detail = entry["error"]
        key = f", key from {entry['key_from']}" if entry.get("key_from") else ""
        rows.append([entry["status"].upper() if entry["status"] != "ok" else "ok", entry["url"],
                     f"[{entry['source']}{key}]", detail])
    out = table(rows) if rows else []
    for entry in entries:
        out += [f"  note: {entry['url']}: {notice}" for notice in entry["notices"]]
        if entry.get("fix"):
            out.append(f"  fix: {entry['url']}: {entry['fix']}")
    return out


def _served_names(models: list[dict]) -> list[str]:
    """Each served model by its name; a second served name of a model as "alias (= first name)"."""
    ids = {m["id"] for m in models}
    return [f"{m['id']} (= {m['name']})" if m["parent"] is None and m["name"] != m["id"] and m["name"] in ids
            else m["name"] for m in models]


def _change_lines(changes: list[Change], kind: str) -> list[str]:
    if kind == "registered":
        rows = [["MODEL", "NEW NAME", "ENDPOINT", "HOW"]]
        rows += [[change.model or "(new)", cut(change.new_name), change.endpoint, "registered"]
                 for change in changes]
    elif kind == "filled":
        rows = [["MODEL", "NAME (unchanged)", "ENDPOINT", "FILLS"]]
        rows += [[change.model, cut(change.new_name), change.endpoint, ", ".join(change.filled)]
                 for change in changes]
    elif kind == "typed":
        rows = [["MODEL", "OLD NAME", "", "NEW NAME"]]
        rows += [[change.model, shown_or_none(change.old_name), "->", repr(cut(change.new_name))] for change in changes]
    else:
        rows = [["MODEL", "OLD NAME", "", "NEW NAME", "ENDPOINT", "MATCHED BY"]]
        for change in changes:
            filled = f" (fills {', '.join(change.filled)})" if change.filled else ""
            rows.append([change.model, shown_or_none(change.old_name), "->", cut(change.new_name), change.endpoint,
                         change.matched_by + filled])
    return table(rows)


def applied_lines(report: Report) -> list[str]:
    """The models named, completed, registered and renamed by a pass (or that a dry run would)."""
    would = report.dry_run
    groups = {"named": [], "filled": [], "registered": [], "typed": []}
    for change in report.applied:
        if change.registered:
            groups["registered"].append(change)
        elif change.human:
            groups["typed"].append(change)
        elif change.old_name == change.new_name:
            groups["filled"].append(change)
        else:
            groups["named"].append(change)
    lines = []
    if groups["named"]:
        lines.append(f"{'would name' if would else 'named'} {plural(len(groups['named']), 'model')}:")
        lines += _change_lines(groups["named"], "named")
    if groups["filled"]:
        lines.append(f"{'would complete' if would else 'completed'} {plural(len(groups['filled']), 'model')} "
                     "(the name was already right; empty columns filled):")
        lines += _change_lines(groups["filled"], "filled")
    if groups["registered"]:
        lines.append(f"{'would register' if would else 'registered'} "
                     f"{plural(len(groups['registered']), 'served model')} (--register-new):")
        lines += _change_lines(groups["registered"], "registered")
    if groups["typed"]:
        lines.append(f"{'would rename' if would else 'renamed'} {plural(len(groups['typed']), 'model')} "
                     "by hand (human names, as rename writes them):")
        lines += _change_lines(groups["typed"], "typed")
    return lines


def _summary_lines(report: Report) -> list[str]:
    named_failed = [e for e in report.endpoints if e["fails_run"]]
    found_failed = [e for e in report.endpoints if e["status"] == "failed" and not e["fails_run"]]
    lines = []
    if not report.applied:
        if named_failed or found_failed:
            lines.append("nothing changed: the models of the servers that answered already have their names")
        else:
            lines.append("nothing to do: every model that can be matched already has its name")
    if found_failed:
        lines.append(f"{plural(len(found_failed), 'endpoint')} found in the database failed (see fix above); "
                     "it does not change the exit code")
    if named_failed:
        lines.append(f"{plural(len(named_failed), 'endpoint')} failed (named with --endpoint)"
                     + ("" if report.dry_run else "; the answers of the others were applied")
                     + f" (exit code {errors.ENDPOINT_FAILED})")
    return lines


def backfill_text(report: Report) -> str:
    plan, lines = report.plan, []
    if report.dry_run:
        lines.append("dry run: nothing is changed")
    if report.swept is not None and report.swept["mode"] == "sweep":
        lines.append(f"sweep: {report.swept['created']} new placeholder(s) for model ids new in messages")
    lines.append("endpoints:")
    lines += _endpoint_lines(report.endpoints) or ["  none: pass --endpoint URL, or set base_url on your vLLM rows"]
    lines += applied_lines(report)
    unregistered = _still_unregistered(report)
    if unregistered:
        lines.append("served but not registered (no llm_models row; add them with --register-new):")
        lines += table([[e["endpoint"], cut(e["served_id"]), f"would be named {cut(e['name'])!r}"
                          + (f" (also served as {listing(e['aliases'], 5, 40)})" if e["aliases"] else "")]
                         for e in unregistered])
    unresolved = {entry["model"] for entry in plan.unresolved}
    unmatched = [entry for entry in plan.unmatched if entry["model"] not in unresolved]  # those come below
    if unmatched:
        lines.append("not matched (names left as they are):")
        for e in unmatched:
            lines.append(f"  {e['model']}  {shown_or_none(e['name'])!r}: {e['reason']}")
            lines += [f"      {step}" for step in e.get("next_steps", [])]
    if plan.unresolved:
        lines.append(f"unresolved placeholders ({len(plan.unresolved)}), most messages first:")
        lines += placeholders_lines(plan.unresolved)
        lines.append(f"  to go through them one by one: {plan.unresolved[0]['commands']['assign']}")
    if plan.left_alone:
        lines.append("left alone:")
        lines += [f"  {item}" for item in plan.left_alone]
    lines += _summary_lines(report)
    return "\n".join(lines)


def backfill_changes(report: Report, moved: list[dict], as_json: bool) -> str | None:
    """A --watch pass after the first: only what changed (names written,
    rows registered, endpoints whose status changed), or None."""
    swept = report.swept["created"] if report.swept is not None and report.swept["mode"] == "sweep" else 0
    if not report.applied and not moved and not swept:
        return None
    if as_json:
        return as_json_line(backfill_json(report, "changes", endpoints=moved))
    lines = [time.strftime("%Y-%m-%d %H:%M:%S")]
    if swept:
        lines.append(f"sweep: {swept} new placeholder(s) for model ids new in messages")
    if moved:
        lines += _endpoint_lines(moved)
    lines += applied_lines(report)
    return "\n".join(lines)


def new_placeholder(report: Report, entry: dict, as_json: bool) -> str:
    """--watch: a new placeholder that needs a person, reported at once."""
    if as_json:
        return as_json_line(backfill_json(report, "placeholder", placeholder=entry))
    return new_placeholder_line(entry)


def as_json_line(document: dict) -> str:
    return as_json(document, indent=None)


# ----------------------------------------------------------------- --assign

ASSIGN_PROMPT = "  number, name, s to skip, q to stop> "
CONFIRM_PROMPT = "apply these changes in one transaction? [y/N] "


def assign_intro(report: Report) -> str:
    lines = ["endpoints:"]
    lines += _endpoint_lines(report.endpoints) or ["  none: pass --endpoint URL to choose among its served models"]
    todo = report.plan.unresolved
    if todo:
        lines.append(f"{plural(len(todo), 'placeholder')} to name, most messages first. For each, answer with "
                     "the number of a served model, or type a name (a human name, kept as rename keeps it), "
                     "s to skip it, q to stop asking. Nothing is written before you confirm.")
    else:
        lines.append("no placeholder waits for a person")
    return "\n".join(lines)


def assign_card(entry: dict, index: int, total: int, likeliest: tuple[dict | None, str],
                taken: dict[tuple[str, str], str]) -> str:
    """One placeholder of the walk: its evidence, the candidates (those chosen
    above marked), and the likeliest one given the answers so far, or why none."""
    lines = [f"[{index}/{total}] {entry['model']}  {shown_or_none(entry['name'])!r}: {entry['reason']}"]
    seen = evidence_text(entry["evidence"])
    if seen:
        lines.append(f"      seen in: {seen}")
    if entry["candidates"]:
        lines += table(candidate_rows(entry["candidates"], taken), indent="      ")
        candidate, why = likeliest
        lines.append(f"      likeliest: {candidate['number']} ({why})" if candidate is not None else f"      {why}")
    else:
        lines.append("      no served model to choose from (no server answered): type a name, s or q")
    return "\n".join(lines)


def assign_plan(report: Report) -> str:
    lines = ["plan:"]
    lines += applied_lines(report) or ["  nothing to change"]
    if report.plan.left_alone:
        lines.append("left alone:")
        lines += [f"  {item}" for item in report.plan.left_alone]
    return "\n".join(lines)
