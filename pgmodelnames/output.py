"""Everything the command line shows: text and JSON for doctor, backfill,
rename and the migrations, with one table renderer. Pure functions from
reports to strings; only cli.py (and demo.py) print them.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict
from typing import Any, Iterable

from pgmodelnames import errors
from pgmodelnames.backfill import Report
from pgmodelnames.matching import Change, _short, _show
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


def as_json(document: Any, indent: int | None = 2) -> str:
    return json.dumps(document, indent=indent, default=str, ensure_ascii=False)


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
        "  placeholder trigger       " + ("none (sweep mode)" if report["placeholders"]["mode"] == "sweep" else
                                        present(o["placeholder_trigger"], _yes(o["placeholder_trigger"]["enabled"],
                                                                               "enabled", "DISABLED"))),
        "  llm_models.name NOT NULL  " + _yes(o["name_constraint"]["not_null"] and o["name_constraint"]["validated"],
                                          "yes", "no"),
        "  covered providers         " + ", ".join(report["covered_providers"]),
        *_placeholder_lines(report["placeholders"]),
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


def _placeholder_lines(p: dict[str, Any]) -> list[str]:
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

def backfill_json(report: Report) -> dict:
    changes = [_change_json(change) for change in report.applied]
    return {
        "dry_run": report.dry_run,
        "endpoints": report.endpoints,
        "changes": [c for c in changes if not c["registered"]],
        "registered": [c for c in changes if c["registered"]],
        "not_registered": _still_unregistered(report),
        "unmatched": report.plan.unmatched,
        "unresolved_placeholders": report.plan.unresolved,
        "left_alone": report.plan.left_alone,
        "nothing_to_do": not report.applied,
        "sweep": report.swept,
        "exit_code": report.exit_code,
    }


def _still_unregistered(report: Report) -> list[dict]:
    registered = {(c.endpoint, c.served_id) for c in report.applied if c.registered}
    return [e for e in report.plan.not_registered if (e["endpoint"], e["served_id"]) not in registered]


def _change_json(change: Change) -> dict:
    data = asdict(change)
    data.pop("base_url")
    return data


def _endpoint_lines(entries: Iterable[dict]) -> list[str]:
    lines = []
    for entry in entries:
        if entry["status"] == "ok":
            names = ", ".join(_short(m["name"], 50) for m in entry["models"][:6])
            more = f", ... ({len(entry['models'])} in all)" if len(entry["models"]) > 6 else ""
            detail = f"{len(entry['models'])} model{'s' if len(entry['models']) != 1 else ''}: {names}{more}"
        else:
            detail = entry["error"]
        lines.append([entry["status"].upper() if entry["status"] != "ok" else "ok", entry["url"],
                      f"[{entry['source']}]", detail])
    out = table(lines) if lines else []
    for entry in entries:
        out += [f"  note: {entry['url']}: {notice}" for notice in entry["notices"]]
    return out


def _change_lines(changes: list[Change], registered: bool) -> list[str]:
    header = ["MODEL", "NEW NAME", "ENDPOINT", "HOW"] if registered else \
        ["MODEL", "OLD NAME", "", "NEW NAME", "ENDPOINT", "MATCHED BY"]
    rows = [header]
    for change in changes:
        filled = f" (fills {', '.join(change.filled)})" if change.filled and not registered else ""
        if registered:
            rows.append([change.model, _short(change.new_name), change.endpoint, "registered"])
        else:
            rows.append([change.model, _show(change.old_name), "->", _short(change.new_name), change.endpoint,
                         change.matched_by + filled])
    return table(rows)


def _applied_lines(report: Report) -> list[str]:
    """The models named and registered by a pass (or that a dry run would)."""
    would = report.dry_run
    renames = [c for c in report.applied if not c.registered]
    registered = [c for c in report.applied if c.registered]
    lines = []
    if renames:
        lines.append(f"{'would name' if would else 'named'} {len(renames)} model{'s' if len(renames) != 1 else ''}:")
        lines += _change_lines(renames, registered=False)
    if registered:
        lines.append(f"{'would register' if would else 'registered'} {len(registered)} served "
                     f"model{'s' if len(registered) != 1 else ''} (--register-new):")
        lines += _change_lines(registered, registered=True)
    return lines


def backfill_text(report: Report) -> str:
    plan, lines = report.plan, []
    if report.dry_run:
        lines.append("dry run: nothing is changed")
    if report.swept is not None and report.swept["mode"] == "sweep":
        lines.append(f"sweep: {report.swept['created']} new placeholder(s) for model ids new in messages")
    lines.append("endpoints:")
    lines += _endpoint_lines(report.endpoints) or ["  none: pass --endpoint URL, or set base_url on your vLLM rows"]
    lines += _applied_lines(report)
    unregistered = _still_unregistered(report)
    if unregistered:
        lines.append("served but not registered (no llm_models row; add them with --register-new):")
        lines += table([[e["endpoint"], _short(e["served_id"]), f"would be named {_short(e['name'])!r}"
                          + (f" (also served as {', '.join(_short(a, 40) for a in e['aliases'])})"
                             if e["aliases"] else "")]
                         for e in unregistered])
    unresolved = {entry["model"] for entry in plan.unresolved}
    unmatched = [entry for entry in plan.unmatched if entry["model"] not in unresolved]  # those come below
    if unmatched:
        lines.append("not matched (names left as they are):")
        lines += [f"  {e['model']}  {_show(e['name'])!r}: {e['reason']}" for e in unmatched]
    if plan.unresolved:
        lines.append(f"unresolved placeholders ({len(plan.unresolved)}):")
        for entry in plan.unresolved:
            lines.append(f"  {entry['model']}  {_show(entry['name'])!r}: {entry['reason']}")
            if entry["candidates"]:
                shown = ", ".join(_short(c, 40) for c in entry["candidates"][:5])
                lines.append(f"      served models not yet matched: {shown}")
                lines.append(f"      to name it after one: pgmodelnames backfill --map "
                             f"{entry['model']}={_arg(entry['candidates'][0])}")
            elif entry["served"]:
                shown = ", ".join(_short(c, 40) for c in entry["served"][:5])
                lines.append(f"      every served model already has a row ({shown}); if it is one of them: "
                             f"pgmodelnames backfill --map {entry['model']}={_arg(entry['served'][0])}")
            else:
                lines.append("      no server answered for it: name its server with --endpoint URL, "
                             "or give it a name with `pgmodelnames rename`")
    if plan.left_alone:
        lines.append("left alone:")
        lines += [f"  {item}" for item in plan.left_alone]
    if not report.applied:
        lines.append("nothing to do: every model that can be matched already has its name")
    if report.exit_code == errors.ENDPOINT_FAILED:
        failed = sum(1 for e in report.endpoints if e["status"] == "failed")
        lines.append(f"{failed} endpoint{'s' if failed != 1 else ''} failed"
                     + ("" if report.dry_run else "; the answers of the others were applied") + " (exit code 6)")
    return "\n".join(lines)


def _arg(value: str) -> str:
    text = _short(value, 80)
    return text if re.fullmatch(r"[\w./:@+-]+", text) else "'" + text.replace("'", "'\\''") + "'"


def backfill_changes(report: Report, moved: list[dict], as_json: bool) -> str | None:
    """A --watch pass after the first: only what changed (names written,
    rows registered, endpoints whose status changed), or None."""
    swept = report.swept["created"] if report.swept is not None and report.swept["mode"] == "sweep" else 0
    if not report.applied and not moved and not swept:
        return None
    if as_json:
        document = backfill_json(report)
        document["endpoints"] = moved
        document["at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        return json.dumps(document, ensure_ascii=False)
    lines = [time.strftime("%Y-%m-%d %H:%M:%S")]
    if swept:
        lines.append(f"sweep: {swept} new placeholder(s) for model ids new in messages")
    if moved:
        lines += _endpoint_lines(moved)
    lines += _applied_lines(report)
    return "\n".join(lines)
