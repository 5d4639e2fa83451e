"""What the command line shows for the migrations, sweep, rename and
doctor (backfill's reports: output_backfill.py), drawn with render.py.
Pure functions from reports to strings; only cli.py (and demo.py) print them.
"""

from __future__ import annotations

from typing import Any

from pgmodelnames.render import placeholders_lines, table  # noqa: F401 (table: the one renderer, for the faces)
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


# ----------------------------------------------------------------- migrations

def migrated_text(result: Migrated, direction: str, providers: list[str] | None = None,
                  switched: ModeSwitched | None = None) -> str:
    lines = []
    if providers is not None:
        lines.append(f"pgmodelnames: covered providers are now {', '.join(providers)}")
    if direction == "upgrade":
        if result.before != result.after:
            lines.append(f"pgmodelnames: upgraded {result.before or 'nothing'} -> {result.after}")
        elif result.restored:
            lines.append(f"pgmodelnames: at {result.after}; put back {len(result.restored)} object(s) "
                         "changed outside pgmodelnames:")
            lines += [f"  {entry['object']}: {entry['detail']}" for entry in result.restored]
        elif result.history_created is None:
            lines.append(f"pgmodelnames: already at {result.after}, nothing to do")
        else:
            lines.append(f"pgmodelnames: already at {result.after}")
        if result.names_filled:
            lines.append(f"pgmodelnames: filled {result.names_filled} missing name(s) in llm_models")
        if result.history_created is not None:
            lines.append(f"pgmodelnames: history pass: {result.history_created} placeholder(s) created for "
                         "the models that stored messages name")
        if result.before != result.after and result.placeholder_mode is not None:
            where = ("the trigger on messages" if result.placeholder_mode == "trigger"
                     else "the sweep (pgmodelnames sweep, backfill, or pg_cron: pgmodelnames sweep --schedule)")
            lines.append(f"pgmodelnames: placeholders for new models come from {where}")
            lines.append("pgmodelnames: next: pgmodelnames doctor   (what is named, what waits for a name, "
                         "and the command that names it)")
        if result.history_error is not None:
            lines.append(f"pgmodelnames: the install is complete, but its history pass stopped: "
                         f"{result.history_error}; run pgmodelnames upgrade again to finish it")
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
        if report["revision"] == report["head"]:
            changed = report["changed_outside"]
            lines.append(f"  {'objects':<26}" + (f"{len(changed)} changed outside pgmodelnames" if changed
                                                 else "as installed"))

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
        *_trigger_shape_lines(report),
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


def _trigger_shape_lines(report: dict[str, Any]) -> list[str]:
    shape = report.get("trigger_shape")
    if not shape or shape["installed"] == "none":
        return []
    return [f"  trigger shape             {shape['installed']}"
            + (f" ({shape['reason']})" if shape["installed"] == shape["wanted"] else
               f" (must now be {shape['wanted']}: {shape['reason']})")]


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


