"""Everything the command line shows: text and JSON for doctor, backfill,
rename and the migrations, with one table renderer. Pure functions from
reports to strings; only cli.py (and demo.py) print them.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import asdict
from typing import Any, Iterable

from pgmodelnames import errors
from pgmodelnames.backfill import Report
from pgmodelnames.matching import Change
from pgmodelnames.served_models import _short, _show, listing
from pgmodelnames.rename import Renamed
from pgmodelnames.runner import Migrated, ModeSwitched, Uninstalled

DOCTOR_STATE_LABELS = {
    "named": "named",
    "placeholder": "placeholder, awaiting a name",
    "missing": "NULL or blank name",
    "uuid_name": "name is a bare UUID",
    "machine_named": "named by pgmodelnames",
    "named_by_human": "named by a human",
}


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
    return json.dumps(document, indent=indent, default=_json_value, ensure_ascii=False)


# ----------------------------------------------------------------- migrations

def migrated_text(result: Migrated, direction: str, providers: list[str] | None = None,
                  switched: ModeSwitched | None = None) -> str:
    lines = []
    if providers is not None:
        lines.append(f"pgmodelnames: covered providers are now {', '.join(providers)}")
    if direction == "upgrade":
        if result.before == result.after:
            lines.append(f"pgmodelnames: already at {result.after}, nothing to do")
        else:
            lines.append(f"pgmodelnames: upgraded {result.before or 'nothing'} -> {result.after}")
        if switched is not None:
            lines.append(mode_text(switched))
    elif result.before is None and result.after is None:
        lines.append("pgmodelnames: not installed, nothing to downgrade")
    else:
        lines.append(f"pgmodelnames: downgraded {result.before or 'nothing'} -> {result.after or 'base'} "
                     "(no rows deleted)")
    return "\n".join(lines)


def mode_text(switched: ModeSwitched) -> str:
    where = ("the trigger on messages" if switched.after == "trigger"
             else "the sweep, with no trigger on messages (run `pgmodelnames sweep`, backfill, "
                  "or `pgmodelnames sweep --schedule` for pg_cron)")
    verb = "still come" if switched.before == switched.after else "now come"
    return (f"pgmodelnames: placeholders {verb} from {where}; {switched.created} placeholder(s) created "
            "for the messages already stored")


# ----------------------------------------------------------------- sweep

def sweep_text(result: dict[str, Any]) -> str:
    if result["mode"] == "trigger":
        if result["method"] is None:
            return ("pgmodelnames: placeholders come from the trigger on messages: nothing to sweep "
                    "(--full checks the stored messages)")
        return (f"pgmodelnames: trigger mode, full pass over messages: {result['created']} placeholder(s) "
                f"created in {result['seconds']:.2f} s")
    how = {"column": f"messages.{result['mark_column']} from "
                     f"{result['read_from'] if result['read_from'] is not None else 'the start (a full pass)'}",
           "index": "the distinct model ids of the index on messages(model_id)",
           "full": "all of messages (no index to read only what is new)"}[result["method"]]
    line = (f"pgmodelnames: swept {how}: {result['created']} placeholder(s) created in "
            f"{result['seconds']:.3f} s")
    if result["held_back"]:
        line += ("; the high-water mark stays where it was: a transaction that began before this sweep is "
                 "still open (the next sweep reads its rows)")
    elif result["high_water_mark"] is not None:
        line += f"; high-water mark now {result['high_water_mark']}"
    return line


def scheduled_text(jobs: list[dict[str, Any]]) -> str:
    lines = ["pgmodelnames: scheduled with pg_cron:"]
    lines += table([[j["job_name"], repr(j["job_schedule"]), j["command"], f"jobid {j['jobid']}"] for j in jobs])
    return "\n".join(lines)


def unscheduled_text(removed: int) -> str:
    return (f"pgmodelnames: removed {removed} pg_cron job(s)" if removed
            else "pgmodelnames: no pg_cron sweep was scheduled")


def uninstalled_text(result: Uninstalled) -> str:
    if not result.installed:
        return "pgmodelnames: not installed, nothing to remove"
    return ("pgmodelnames: removed the view, functions, triggers, constraints and the pgmodelnames schema; "
            "kept every row of llm_models and messages, including "
            f"{result.machine_named_models} models named by pgmodelnames (their names stay)")


# ----------------------------------------------------------------- rename

def renamed_text(result: Renamed) -> tuple[str, str | None]:
    """The line for stdout, and a note for stderr (or None)."""
    shown_old = repr(result.old_name) if result.old_name is not None else "(no name)"
    line = f"pgmodelnames: renamed {result.model}: {shown_old} -> {result.new_name!r}"
    note = None
    if result.same_name_elsewhere:
        note = (f"pgmodelnames: note: {result.same_name_elsewhere} other model(s) already have the name "
                f"{result.new_name!r}; analytics will group them together")
    return line, note


# ----------------------------------------------------------------- doctor

def _yes(flag: bool, yes: str = "yes", no: str = "NO") -> str:
    return yes if flag else no


def doctor_text(report: dict[str, Any]) -> str:
    """The report as text for a terminal."""
    db = report["database"]
    o = report["objects"]
    lines = [f"pgmodelnames doctor: database {db['dbname']} on {db['host']}:{db['port']}, "
             f"app schema {report['app_schema']}", "", "Installation"]
    if report["revision"] is None:
        lines.append(f"  {'revision':<26}not installed (latest {report['head']})")
    else:
        current = "latest" if report["revision"] == report["head"] else f"latest is {report['head']}"
        lines.append(f"  {'revision':<26}{report['revision']} ({current})")

    def present(entry: dict, extra: str) -> str:
        return extra if entry["present"] else "missing"

    lines += [
        "  view model_display_names  " + present(o["view"], "present, security_invoker "
                                                  + _yes(o["view"]["security_invoker"], "on", "OFF")),
        "  guard trigger             " + present(o["guard_trigger"], _yes(o["guard_trigger"]["enabled"],
                                                                      "enabled", "DISABLED")),
        "  placeholder trigger       " + ("none (sweep mode)" if report["placeholder_mode"]["mode"] == "sweep" else
                                        present(o["placeholder_trigger"], _yes(o["placeholder_trigger"]["enabled"],
                                                                               "enabled", "DISABLED"))),
        "  llm_models.name NOT NULL  " + _yes(o["name_constraint"]["not_null"] and o["name_constraint"]["validated"],
                                          "yes", "no"),
        "  covered providers         " + ", ".join(report["covered_providers"]),
        *_placeholder_mode_lines(report["placeholder_mode"]),
        "",
        "Models of covered providers in llm_models",
    ]
    if not report["models"]:
        lines.append("  none")
    for m in report["models"]:
        label = DOCTOR_STATE_LABELS.get(m["state"], m["state"])
        lines.append(f"  {m['provider']:<12} {label:<30} {m['models']:>6}")

    scan = report["messages_scan"]
    lines += ["", f"Model ids in messages with no llm_models row ({scan['method']}, {scan['seconds']:.2f} s)"]
    if not report["unknown_model_ids"]:
        lines.append("  none")
    for u in report["unknown_model_ids"]:
        kind = ("UUID" if u["is_uuid"] else "plain id") + (", covered" if u["covered"] else "")
        provider = u["provider"] if u["provider"] is not None else "(none)"
        lines.append(f"  {provider:<12} {kind:<16} {u['model_ids']:>4} id(s) {u['messages']:>10} message(s)")
        for e in u["examples"]:
            lines.append(f"      {e['model_id']}  {e['messages']} message(s)")

    waiting = report.get("placeholders") or []
    if waiting:
        lines += ["", f"Placeholders waiting for a name ({len(waiting)}, most messages first)"]
        lines += placeholders_lines(waiting)
        asked = report.get("servers") or []
        lines.append("  servers asked (the base_urls in llm_models, without an API key): "
                     + (", ".join(f"{s['url']} {'ok' if s['status'] == 'ok' else s['status'].upper()}"
                                  for s in asked) or "none (no row has a base_url)"))

    for title, items in (("Problems", report["problems"]), ("Notes", report["notes"])):
        if items:
            lines += ["", f"{title}"]
            for number, item in enumerate(items, 1):
                lines.append(f"  {number}. {item['message']}")
                lines += [f"     -> {step}" for step in item["next_steps"]]
    lines.append("")
    if report["healthy"]:
        lines.append("Healthy: every model has a readable name.")
    else:
        lines.append(f"{len(report['problems'])} problem(s) found.")
    return "\n".join(lines)


# ----------------------------------------------------------------- evidence and candidates

def _when(value: Any) -> str:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _plural(count: int, word: str) -> str:
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
    parts = [_plural(evidence["messages"], "message")]
    if evidence["first_seen"] is not None:
        parts.append(f"first {_when(evidence['first_seen'])}, last {_when(evidence['last_seen'])}")
    if evidence["users"] is not None:
        parts.append(_plural(evidence["users"], "user"))
    if evidence["conversations"] is not None:
        parts.append(_plural(evidence["conversations"], "conversation"))
    if evidence["recent_days"] is not None:
        days = evidence["recent_days"]
        if not evidence["recent_messages"]:
            parts.append(f"none in the last {days} days")
        else:
            parts.append(f"{_share(evidence['recent_share'] or 0)} of the last {days} days' messages")
    return ", ".join(parts)


def _claim_text(candidate: dict) -> str:
    claimed = candidate["claimed_by"]
    if not claimed:
        return "no row yet"
    model, name = claimed[0]["model"], claimed[0]["name"]
    first = f"row {model[:8]} {_short(name, 40)!r}" if model else "new row (--register-new)"
    return first + (f" and {len(claimed) - 1} more" if len(claimed) > 1 else "")


def candidate_rows(candidates: list[dict]) -> list[list[str]]:
    rows = []
    for c in candidates:
        if c["base"] is not None:
            kind = f"LoRA adapter on {_short(c['base'], 40)}"
        else:
            kind = "base model" + (f", also served as {listing(c['aliases'], 3, 40)}" if c["aliases"] else "")
        rows.append([f"{c['number']}.", _short(c["served_id"], 60), kind, c["endpoint"], _claim_text(c)])
    return rows


def placeholder_lines(entry: dict, max_candidates: int | None = 10, indent: str = "  ",
                      same_as_above: bool = False) -> list[str]:
    """One placeholder a person must name: why, the evidence, the candidates
    (those no row claims first; "the same as above" when the previous
    placeholder listed the very same), the ready-to-run commands."""
    lines = [f"{indent}{entry['model']}  {_show(entry['name'])!r}: {entry['reason']}"]
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
    return (f"{time.strftime('%Y-%m-%d %H:%M:%S')} new placeholder {entry['model']} {_show(entry['name'])!r}: "
            f"{seen}; {entry['reason']}; to name it: {entry['commands']['map']}")


def _placeholder_mode_lines(p: dict[str, Any]) -> list[str]:
    if p["mode"] == "trigger":
        return ["  placeholders              trigger on messages"
                + (" (messages is a Citus distributed table: use sweep mode)" if p["distributed"] else "")]
    how = {"column": f"new rows by messages.{p['mark_column']} (high-water mark {p['high_water_mark'] or 'not set yet'})",
           "index": "the distinct model ids of the index on messages(model_id)",
           "full": "all of messages on every sweep (no index to read only new rows)"}.get(p["method"], "?")
    if p["last_sweep_at"] is None:
        last = "never"
    else:
        last = (f"{p['last_sweep_at']:%Y-%m-%d %H:%M:%S %Z} ({p['seconds_since_last_sweep']:.0f} s ago), "
                f"created {p['last_sweep_created']}")
    jobs = ", ".join(f"{j['job']} {j['schedule']!r}" + ("" if j["active"] else " (inactive)") for j in p["scheduled"])
    return ["  placeholders              sweep (no trigger on messages)"
            + (", messages is a Citus distributed table" if p["distributed"] else ""),
            f"  sweep reads               {how}",
            f"  last sweep                {last}",
            f"  pg_cron                   {jobs or 'not scheduled'}",
            f"  waiting for the sweep     {p['waiting_model_ids']} model id(s)"]


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
            detail = (f"{_plural(len(entry['models']), 'model')}: "
                      f"{listing(_served_names(entry['models']), 5, 60)}")
        else:
            detail = entry["error"]
        rows.append([entry["status"].upper() if entry["status"] != "ok" else "ok", entry["url"],
                     f"[{entry['source']}]", detail])
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
        rows += [[change.model or "(new)", _short(change.new_name), change.endpoint, "registered"]
                 for change in changes]
    elif kind == "filled":
        rows = [["MODEL", "NAME (unchanged)", "ENDPOINT", "FILLS"]]
        rows += [[change.model, _short(change.new_name), change.endpoint, ", ".join(change.filled)]
                 for change in changes]
    elif kind == "typed":
        rows = [["MODEL", "OLD NAME", "", "NEW NAME"]]
        rows += [[change.model, _show(change.old_name), "->", repr(_short(change.new_name))] for change in changes]
    else:
        rows = [["MODEL", "OLD NAME", "", "NEW NAME", "ENDPOINT", "MATCHED BY"]]
        for change in changes:
            filled = f" (fills {', '.join(change.filled)})" if change.filled else ""
            rows.append([change.model, _show(change.old_name), "->", _short(change.new_name), change.endpoint,
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
        lines.append(f"{'would name' if would else 'named'} {_plural(len(groups['named']), 'model')}:")
        lines += _change_lines(groups["named"], "named")
    if groups["filled"]:
        lines.append(f"{'would complete' if would else 'completed'} {_plural(len(groups['filled']), 'model')} "
                     "(the name was already right; empty columns filled):")
        lines += _change_lines(groups["filled"], "filled")
    if groups["registered"]:
        lines.append(f"{'would register' if would else 'registered'} "
                     f"{_plural(len(groups['registered']), 'served model')} (--register-new):")
        lines += _change_lines(groups["registered"], "registered")
    if groups["typed"]:
        lines.append(f"{'would rename' if would else 'renamed'} {_plural(len(groups['typed']), 'model')} "
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
        lines.append(f"{_plural(len(found_failed), 'endpoint')} found in the database failed (see fix above); "
                     "it does not change the exit code")
    if named_failed:
        lines.append(f"{_plural(len(named_failed), 'endpoint')} failed (named with --endpoint)"
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
        lines += table([[e["endpoint"], _short(e["served_id"]), f"would be named {_short(e['name'])!r}"
                          + (f" (also served as {listing(e['aliases'], 5, 40)})" if e["aliases"] else "")]
                         for e in unregistered])
    unresolved = {entry["model"] for entry in plan.unresolved}
    unmatched = [entry for entry in plan.unmatched if entry["model"] not in unresolved]  # those come below
    if unmatched:
        lines.append("not matched (names left as they are):")
        for e in unmatched:
            lines.append(f"  {e['model']}  {_show(e['name'])!r}: {e['reason']}")
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
        lines.append(f"{_plural(len(todo), 'placeholder')} to name, most messages first. For each, answer with "
                     "the number of a served model, or type a name (a human name, kept as rename keeps it), "
                     "s to skip it, q to stop asking. Nothing is written before you confirm.")
    else:
        lines.append("no placeholder waits for a person")
    return "\n".join(lines)


def assign_card(entry: dict, index: int, total: int) -> str:
    lines = [f"[{index}/{total}] {entry['model']}  {_show(entry['name'])!r}: {entry['reason']}"]
    seen = evidence_text(entry["evidence"])
    if seen:
        lines.append(f"      seen in: {seen}")
    if entry["candidates"]:
        lines += table(candidate_rows(entry["candidates"]), indent="      ")
        if entry["suggested"] is not None:
            number = next(c["number"] for c in entry["candidates"] if c["served_id"] == entry["suggested"])
            lines.append(f"      likeliest: {number} (the only served model that has no row yet)"
                         if not entry["candidates"][number - 1]["claimed_by"]
                         else f"      likeliest: {number} (the only served model)")
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
