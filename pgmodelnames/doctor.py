"""`pgmodelnames doctor`: why does analytics show UUIDs, and what to run.

Runs the queries in sql/diagnostics/ (each readable on its own in psql) and
turns their rows into problems with a next step each: diagnose() returns the
report as a JSON-ready dict, the command line renders it. Works before
install: the queries that need the pgmodelnames schema run only when it is
there. Changes nothing, and runs in one read-only transaction (its settings
are transaction-local), so its answer is the same behind a transaction-mode
pooler.

Placeholders: when some wait for a name, the doctor also asks the servers
llm_models names (GET /v1/models, never with an API key, SERVER_TIMEOUT each,
after its transaction is closed) and plans as backfill would: placeholders a
backfill can name now point to `backfill`; those no server can match get
their evidence, the served models they could be and the --map / --assign /
rename commands, since only a person can tell.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from pgmodelnames import candidates, db, drift, revisions, served_models, sqlfiles
from pgmodelnames.config import Settings
from pgmodelnames.errors import NOT_READY, PREFLIGHT_SQLSTATE, UserError
from pgmodelnames.served_models import listing

DEFAULT_PROVIDERS = ["vllm"]
SERVER_TIMEOUT = 3.0  # seconds per server asked for its model list (all at once)
MAX_SERVERS_ASKED = 8
STATE_LABELS = {
    "named": "named",
    "placeholder": "placeholder, awaiting a name",
    "missing": "NULL or blank name",
    "uuid_name": "name is a bare UUID",
}


def _rows(conn: psycopg.Connection, name: str, schema: str) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sqlfiles.render(f"diagnostics/{name}.sql", schema))
        return cur.fetchall()


def _check_columns(conn: psycopg.Connection, schema: str) -> None:
    """The upgrade's preflight (tables and columns), read-only: a missing
    column is the same one-line answer here as there."""
    try:
        with conn.transaction():
            conn.execute(sqlfiles.render("preflight/schema.sql", schema))
    except psycopg.Error as exc:
        if exc.sqlstate != PREFLIGHT_SQLSTATE:
            raise
        raise UserError(f"the app schema cannot take pgmodelnames: {exc.diag.message_primary} "
                        "(set --schema or PGMODELNAMES_SCHEMA)", NOT_READY) from None


def diagnose(settings: Settings) -> dict[str, Any]:
    """Run the diagnostics; the whole report as a JSON-ready dict."""
    # One read-only transaction; its pinned search_path is also the one the
    # drift check needs (definitions are compared as rendered with it).
    with db.session(settings) as conn, db.transaction(conn, read_only=True):
        installed_for = db.installed_value(conn, "installation", "app_schema")
        schema = settings.schema or installed_for or "public"
        tables = _rows(conn, "app_tables", schema)[0]
        if not (tables["schema_exists"] and tables["has_llm_models"] and tables["has_messages"]):
            what = "schema" if not tables["schema_exists"] else "tables llm_models and messages"
            raise UserError(f"app schema {schema!r} lacks the {what} pgmodelnames works on "
                            "(set --schema or PGMODELNAMES_SCHEMA)", NOT_READY)
        _check_columns(conn, schema)
        objects = _rows(conn, "installed_objects", schema)[0]
        revision = None
        if objects["has_version_table"]:
            row = conn.execute("SELECT max(version_num) FROM pgmodelnames.alembic_version").fetchone()
            revision = row[0] if row else None
        state = _rows(conn, "installation_state", schema)[0] if objects["has_installation"] else None
        at_head = revision == revisions.HEAD
        changed = drift.read(conn, schema) if at_head else []
        history_due, skipped, skip_reason, skipped_at = (
            conn.execute("SELECT history_due_since, placeholders_skipped, skip_reason, skipped_at "
                         "FROM pgmodelnames.sweep_state").fetchone()
            if at_head and db.has_function(conn, "history_pass_if_due()") else (None, None, None, None))
        has_modes = db.has_function(conn, "sweep_status()")
        shape = _rows(conn, "trigger_shape", schema)[0] if at_head else None
        placeholders = _rows(conn, "placeholder_mode", schema)[0] if has_modes else None
        below_mark = _below_mark(conn, schema, placeholders)
        providers = list(state["covered_providers"]) if state else DEFAULT_PROVIDERS
        conn.execute("SELECT set_config('pgmodelnames.doctor_providers', %s, true)", [",".join(providers)])

        models = _rows(conn, "models_by_state", schema)
        machine = {r["provider"]: r["models"] for r in _rows(conn, "machine_named", schema)} if state else None

        indexed = bool(tables["model_id_indexed"])
        started = time.monotonic()
        conn.execute("SELECT set_config('pgmodelnames.doctor_use_index', %s, true)", ["on" if indexed else "off"])
        unknown = _rows(conn, "unknown_model_ids", schema)
        elapsed = time.monotonic() - started
        database = {"host": conn.info.host, "port": conn.info.port, "dbname": conn.info.dbname}
        waiting = _placeholder_rows(conn, schema) if state and at_head else None
    detail = _placeholders(*waiting) if waiting else None

    report: dict[str, Any] = {
        "database": database,
        "app_schema": schema,
        "installed": revision is not None,
        "installed_for_schema": installed_for,
        "revision": revision,
        "head": revisions.HEAD,
        "changed_outside": changed,
        "history_due_since": history_due.isoformat() if history_due else None,
        "placeholders_skipped": ({"models": skipped, "reason": skip_reason, "at": skipped_at.isoformat()}
                                 if skipped else None),
        "covered_providers": providers,
        "objects": {
            "pgmodelnames_schema": objects["schema_exists"],
            "view": {"present": objects["view_exists"],
                     "security_invoker": bool(objects["view_security_invoker"])},
            "guard_trigger": {"present": objects["guard_trigger_exists"],
                              "enabled": bool(objects["guard_trigger_enabled"])},
            "placeholder_trigger": {"present": objects["placeholder_trigger_exists"],
                                    "enabled": bool(objects["placeholder_trigger_enabled"]),
                                    "missing": objects["placeholder_trigger_missing"],
                                    "disabled": list(objects["placeholder_triggers_disabled"] or [])},
            "name_constraint": {"present": objects["name_check_validated"] is not None,
                                "validated": bool(objects["name_check_validated"]),
                                "not_null": bool(objects["name_not_null"])},
            "display_name_function": objects["display_name_function_exists"],
        },
        "models": _models(models, machine),
        "unknown_model_ids": [
            {"provider": r["provider"], "covered": r["covered"], "is_uuid": r["is_uuid"],
             "model_ids": r["model_ids"], "messages": r["messages"], "examples": r["examples"] or []}
            for r in unknown
        ],
        "placeholder_mode": _placeholder_mode(placeholders, unknown, below_mark),
        "trigger_shape": shape,
        "messages_scan": {"method": "loose index scan on messages.model_id" if indexed else "sequential scan",
                          "estimated_rows": tables["messages_estimate"], "seconds": round(elapsed, 3)},
        "placeholders": detail["unresolved"] if detail else [],
        "servers": detail["servers"] if detail else [],
    }
    report["problems"], report["notes"] = _findings(report, detail)
    report["healthy"] = not report["problems"]
    return report


def _placeholder_rows(conn: psycopg.Connection, schema: str):
    """(rows, columns, evidence) as backfill reads them, when placeholders
    wait for a name; None when none do, or this role may not read the
    bookkeeping (the counts above still say how many there are)."""
    from pgmodelnames import backfill, evidence

    try:
        with conn.transaction():
            rows = backfill.read_rows(conn, schema)
            waiting = [row.id for row in rows if row.placeholder and row.covered]
            if not waiting:
                return None
            return rows, backfill.read_columns(conn, schema), evidence.for_models(conn, schema, waiting)
    except psycopg.errors.InsufficientPrivilege:
        return None


def _placeholders(rows, columns, found) -> dict[str, Any]:
    """Ask the servers llm_models names (no key, no transaction open) and
    plan as backfill would, without applying anything."""
    from pgmodelnames import backfill, matching, vllm

    options = matching.Options(dry_run=True, timeout=SERVER_TIMEOUT)
    endpoints, unusable = backfill.discover(options, rows)
    # base_url is app data that any app user may write: the doctor asks a
    # bounded number of them (all at once, SERVER_TIMEOUT each, at most
    # vllm.MAX_CARDS models each), names every one it asked, and leaves the
    # rest to backfill, which asks them all.
    endpoints, beyond = endpoints[:MAX_SERVERS_ASKED], endpoints[MAX_SERVERS_ASKED:]
    unusable += [{"url": endpoint.url, "source": backfill.SOURCE_BASE_URL, "status": "skipped",
                  "error": f"not asked: the doctor asks at most {MAX_SERVERS_ASKED} servers "
                           "(pgmodelnames backfill asks them all)",
                  "fix": None, "fails_run": False, "models": [], "notices": []} for endpoint in beyond]
    fetched = vllm.fetch_all(endpoints, {}, SERVER_TIMEOUT) if endpoints else []
    results = [served_models.screen(result)[0] for result in fetched]
    plan = matching.make_plan(rows, results, options, columns)
    candidates.attach_evidence(plan.unresolved, found)
    waiting = {row.id for row in rows if row.placeholder and row.covered}
    found_in = backfill.sources(rows)
    return {"unresolved": plan.unresolved,
            "servers": [backfill.endpoint_entry(result, [], found_in) for result in results] + unusable,
            "named_by_backfill": [change.model for change in plan.changes if change.model in waiting]}


SWEEP_LATE_AFTER = 15 * 60  # seconds: model ids waiting longer than this for a sweep are a problem


def _below_mark(conn: psycopg.Connection, schema: str, row: dict[str, Any] | None) -> int:
    """Sweep mode with a mark: covered model ids without a row whose messages all lie below it."""
    if row is None or row["mode"] != "sweep" or row["method"] != "column" or row["high_water_mark"] is None:
        return 0
    kind = conn.execute("SELECT format_type(atttypid, NULL) FROM pg_catalog.pg_attribute "
                        "WHERE attrelid = %s::regclass AND attname = %s",
                        [f'"{schema}".messages', row["mark_column"]]).fetchone()[0]
    mark = sql.SQL("{}::{}").format(sql.Literal(row["high_water_mark"]), sql.SQL(kind))
    query = sqlfiles.render("diagnostics/below_mark.sql", schema,
                            mark_column=sql.Identifier(row["mark_column"]).as_string(conn),
                            mark=mark.as_string(conn))
    return conn.execute(query).fetchone()[0]


def _placeholder_mode(row: dict[str, Any] | None, unknown: list[dict[str, Any]], below_mark: int = 0) -> dict[str, Any]:
    """Where placeholders come from; in sweep mode, how many covered model ids wait for the next
    sweep, and how many only a full sweep reaches (below the high-water mark)."""
    if row is None:
        return {"mode": "trigger", "distributed": False}
    entry = {k: row[k] for k in ("mode", "distributed", "method", "mark_column", "high_water_mark",
                                 "held_back_since", "held_back_pids", "last_sweep_at", "last_sweep_created",
                                 "last_full_sweep_at", "sweeps", "scheduled")}
    entry["seconds_since_last_sweep"] = (round(row["seconds_since_last_sweep"], 1)
                                         if row["seconds_since_last_sweep"] is not None else None)
    entry["below_mark_model_ids"] = below_mark
    entry["waiting_model_ids"] = sum(u["model_ids"] for u in unknown if u["covered"] and u["is_uuid"]) - below_mark
    return entry


def _models(rows: list[dict[str, Any]], machine: dict[str, int] | None) -> list[dict[str, Any]]:
    """models_by_state rows; once installed (machine is not None), "named" is
    split into machine_named (written by pgmodelnames) and named_by_human."""
    result = []
    for r in rows:
        entry = {"provider": r["provider"], "state": r["state"], "models": r["models"],
                 "examples": r["examples"] or []}
        if r["state"] == "named" and machine is not None:
            by_machine = machine.get(r["provider"], 0)
            if by_machine:
                result.append({"provider": r["provider"], "state": "machine_named", "models": by_machine,
                               "examples": []})
            entry = {**entry, "state": "named_by_human", "models": r["models"] - by_machine, "examples": []}
            if entry["models"] == 0:
                continue
        result.append(entry)
    return result


def _problem(code: str, message: str, *next_steps: str) -> dict[str, Any]:
    return {"code": code, "message": message, "next_steps": list(next_steps)}


REINSTALL = "pgmodelnames uninstall && pgmodelnames upgrade   (every name and row stays)"


def _findings(report: dict[str, Any], detail: dict[str, Any] | None = None) -> tuple[list[dict], list[dict]]:
    """The report's problems and notes, each with its next steps."""
    problems: list[dict] = []
    notes: list[dict] = []
    at_head = report["revision"] == report["head"]
    problems += _installation_problems(report)
    if at_head:
        problems += _object_problems(report)
    if report["placeholder_mode"]["mode"] == "sweep":
        _sweep_findings(report, problems, notes)
    elif at_head:
        problems += _placeholder_trigger_problems(report)
    if at_head:
        problems += _drift_problems(report, {p["code"] for p in problems})
    problems += _name_problems(report, detail)
    orphan_problems, orphan_notes = _orphan_findings(report)
    return problems + orphan_problems, notes + orphan_notes


def _installation_problems(report: dict[str, Any]) -> list[dict]:
    """Which revision is installed, for which schema; a guard lost by a public-only restore."""
    problems = []
    schema, revision, head = report["app_schema"], report["revision"], report["head"]
    objects = report["objects"]
    if report["installed_for_schema"] and report["installed_for_schema"] != schema:
        problems.append(_problem(
            "other_schema", f"pgmodelnames is installed for app schema {report['installed_for_schema']!r}, "
                            f"not {schema!r}", f"pgmodelnames --schema {report['installed_for_schema']} doctor"))
    if objects["name_constraint"]["present"] and not objects["guard_trigger"]["present"] and revision != head:
        # A public-only dump/restore brings back the CHECK and NOT NULL on
        # llm_models.name but not the guard (it lives in the pgmodelnames schema).
        problems.append(_problem(
            "guard_lost", f"URGENT: {schema}.llm_models.name is NOT NULL with pgmodelnames' constraint "
                          "llm_models_name_present, but the guard trigger that fills missing names is gone "
                          "(a restore of the app schema alone?): the app's inserts without a name now FAIL",
            "pgmodelnames upgrade   (repairs it: reinstalls the guard and everything else)",
            "or pgmodelnames uninstall   (removes the constraint; the name stays NOT NULL only if it was before)"))
    if revision is None:
        problems.append(_problem(
            "not_installed", "pgmodelnames is not installed in this database: nothing gives unknown models "
                             "a name yet", "pgmodelnames upgrade"))
    elif revision in revisions.LEGACY:
        problems.append(_problem(
            "outdated", f"pgmodelnames is at revision {revision} (pgmodelnames 0.1), the latest is {head}",
            "pgmodelnames upgrade   (one transaction: it applies in full or changes nothing)"))
    elif revision in revisions.EARLIER:
        problems.append(_problem(
            "outdated", f"pgmodelnames is at revision {revision}, the latest is {head}",
            "pgmodelnames upgrade   (one transaction: it applies in full or changes nothing)"))
    elif revision != head:
        problems.append(_problem(
            "newer", f"pgmodelnames is at revision {revision}, which this pgmodelnames does not know "
                     f"(its latest is {head}): this doctor cannot check it", "use a newer pgmodelnames"))
    return problems


def _object_problems(report: dict[str, Any]) -> list[dict]:
    """At head: the view, the guard, the name constraint, model_display_name()."""
    problems = []
    schema = report["app_schema"]
    quoted = '"' + schema + '"'
    objects = report["objects"]
    view, guard, constraint = objects["view"], objects["guard_trigger"], objects["name_constraint"]
    if not view["present"]:
        problems.append(_problem("view_missing", f"the view {schema}.model_display_names is missing", REINSTALL))
    elif not view["security_invoker"]:
        problems.append(_problem(
            "view_not_security_invoker",
            f"the view {schema}.model_display_names lost security_invoker=true (a CREATE OR REPLACE VIEW "
            "without WITH (security_invoker = true)?): it reads llm_models with its owner's rights, so "
            "row-level security no longer applies to its readers",
            f"psql: ALTER VIEW {quoted}.model_display_names SET (security_invoker = true);",
            "or pgmodelnames upgrade   (puts it back as installed)"))
    if not guard["present"]:
        problems.append(_problem("guard_missing", f"the trigger pgmodelnames_name_guard on {schema}.llm_models "
                                 "is missing: app writes with a missing name will fail NOT NULL",
                                 "pgmodelnames upgrade   (puts it back)"))
    elif not guard["enabled"]:
        problems.append(_problem(
            "guard_disabled", f"the trigger pgmodelnames_name_guard on {schema}.llm_models is disabled: "
                              "app writes with a missing name fail instead of getting one",
            f"psql: ALTER TABLE {quoted}.llm_models ENABLE TRIGGER pgmodelnames_name_guard;"))
    if not (constraint["validated"] and constraint["not_null"]):
        problems.append(_problem("name_constraint_missing",
                                 f"{schema}.llm_models.name is not NOT NULL with a valid llm_models_name_present "
                                 "check", "pgmodelnames upgrade   (puts it back)"))
    if not objects["display_name_function"]:
        problems.append(_problem("function_missing", f"the function {schema}.model_display_name() is missing",
                                 "pgmodelnames upgrade   (puts it back)"))
    return problems


def _placeholder_trigger_problems(report: dict[str, Any]) -> list[dict]:
    """Trigger mode at head: the trigger on messages, there, enabled, and of the shape the table
    needs now."""
    schema = report["app_schema"]
    trigger = report["objects"]["placeholder_trigger"]
    shape = report["trigger_shape"]
    if shape and trigger["present"] and shape["installed"] != shape["wanted"]:
        harm = ("a message naming a new model FAILS the key until then" if shape["wanted"] == "row"
                else "every row pays a call where one pass per statement would do")
        return [_problem(
            "trigger_shape_changed", f"the placeholder trigger on {schema}.messages is a {shape['installed']} "
                                     f"trigger, but it must now be a {shape['wanted']} trigger "
                                     f"({shape['reason']}): {harm}",
            "pgmodelnames upgrade   (installs the right shape in one transaction)")]
    if shape and shape["partitions_without_trigger"]:
        return [_problem(
            "partitions_without_trigger", f"partitions of {schema}.messages created since the install lack the "
                                          "statement trigger: rows inserted straight into them get no placeholder "
                                          f"({listing(shape['partitions_without_trigger'], 3, 80)})",
            "pgmodelnames upgrade   (puts the trigger on every partition)")]
    if not trigger["present"]:
        return [_problem(
            "placeholder_trigger_missing", f"the trigger {trigger['missing']} on {schema}.messages is "
                                           "missing: new vLLM models get no row and show as UUIDs",
            "pgmodelnames upgrade   (puts it back, then gives placeholders to the messages stored meanwhile)")]
    if not trigger["enabled"]:
        return [_problem(
            "placeholder_trigger_disabled", f"the trigger {' and '.join(trigger['disabled'])} on {schema}.messages "
                                            f"{'is' if len(trigger['disabled']) == 1 else 'are'} disabled: new vLLM "
                                            "models get no row and show as UUIDs",
            *(f'psql: ALTER TABLE "{schema}".messages ENABLE TRIGGER {name};' for name in trigger["disabled"]),
            f"pgmodelnames upgrade --providers {','.join(report['covered_providers'])}   "
            "(placeholders for messages stored meanwhile)")]
    return []


def _name_problems(report: dict[str, Any], detail: dict[str, Any] | None) -> list[dict]:
    """Rows of llm_models without a usable name, and placeholders waiting for one."""
    problems = []
    fix_names = "pgmodelnames upgrade" if report["revision"] is None else "pgmodelnames rename UUID NAME"
    for m in report["models"]:
        if m["state"] in ("missing", "uuid_name"):
            what = "a NULL or blank name" if m["state"] == "missing" else "a bare UUID as their name"
            problems.append(_problem(
                f"names_{m['state']}", f"{m['models']} {m['provider']} model(s) in llm_models have {what} "
                                       f"(e.g. {', '.join(m['examples'][:3])})", fix_names))
        elif m["state"] == "placeholder" and detail is None:
            example = m["examples"][0] if m["examples"] else "UUID"
            problems.append(_problem(
                "placeholders", f"{m['models']} {m['provider']} model(s) still carry a placeholder name "
                                f"(\"Unknown {m['provider']} model ...\"), awaiting a real one",
                "pgmodelnames backfill --dry-run   (shows which it can name from the servers, and for the others "
                "the --map lines)",
                f"pgmodelnames rename {example} \"Llama 3.1 8B\"   (by hand)"))
    if detail is not None:
        problems += _placeholder_problems(detail)
    return problems


def _orphan_findings(report: dict[str, Any]) -> tuple[list[dict], list[dict]]:
    """Model ids in messages that llm_models does not know, by what can be done about them."""
    problems, notes = [], []
    providers = ",".join(report["covered_providers"])
    sweep_mode = report["placeholder_mode"]["mode"] == "sweep"
    for u in report["unknown_model_ids"]:
        examples = ", ".join(e["model_id"] for e in u["examples"][:3])
        provider = u["provider"] if u["provider"] is not None else "(no provider)"
        counts = f"{u['model_ids']} id(s) in {u['messages']} message(s), e.g. {examples}"
        if u["is_uuid"] and u["covered"] and sweep_mode:
            continue  # counted by _sweep_findings: waiting for the next sweep
        if u["is_uuid"] and u["covered"]:
            problems.append(_problem(
                "orphans", f"messages of provider {provider} name model UUIDs with no llm_models row "
                           f"(analytics shows them as UUIDs): {counts}",
                "pgmodelnames upgrade" if report["revision"] is None
                else f"pgmodelnames upgrade --providers {providers}   (creates their placeholder rows)"))
        elif u["is_uuid"]:
            notes.append(_problem(
                "uncovered_orphans", f"provider {provider} is not covered; its messages name model UUIDs with "
                                     f"no llm_models row: {counts}",
                f"pgmodelnames upgrade --providers {providers},{provider}   (to give them placeholders)",
                "or group by model_display_name(model_id, provider) in analytics"))
        else:
            notes.append(_problem(
                "non_uuid_ids", f"provider {provider}: plain (non-UUID) model ids, which no llm_models row can "
                                f"hold: {counts}",
                "group by model_display_name(model_id, provider) in analytics (shows them as they are)"))
    return problems, notes


# The problems above that already name a changed object, with the harm it
# does and the fix: the drift check does not name that object a second time.
_EXPLAINED_BY = {
    "view ": ("view_missing", "view_not_security_invoker"),
    "trigger pgmodelnames_name_guard ": ("guard_missing", "guard_disabled"),
    "trigger zz_pgmodelnames_placeholder ": ("placeholder_trigger_missing", "placeholder_trigger_disabled"),
    "trigger zz_pgmodelnames_placeholder_insert ": ("placeholder_trigger_missing", "placeholder_trigger_disabled",
                                                   "trigger_shape_changed"),
    "placeholder trigger shape ": ("trigger_shape_changed", "partitions_without_trigger"),
    "constraint ": ("name_constraint_missing",),
}


def _drift_problems(report: dict[str, Any], found: set[str]) -> list[dict]:
    """Objects changed outside pgmodelnames since it installed them (but those a problem above
    already names), and a history pass left due."""
    problems = []
    changed = [entry for entry in report["changed_outside"]
               if not any(entry["object"].startswith(kind) and found.intersection(codes)
                          for kind, codes in _EXPLAINED_BY.items())]
    repair = "pgmodelnames upgrade   (puts every changed object back as installed, and says which)"
    server = next((entry for entry in changed if entry["object"] == "postgresql"), None)
    if server is not None:
        problems.append(_problem(
            "recorded_on_other_postgresql",
            f"pgmodelnames recorded its objects on another PostgreSQL major version ({server['detail']}): "
            "they cannot be compared with what this server shows", repair))
    else:
        for entry in changed:
            problems.append(_problem(
                "changed_outside", f"changed outside pgmodelnames: {entry['object']}: {entry['detail']}", repair))
    skipped = report["placeholders_skipped"]
    if skipped and any(u["covered"] and u["is_uuid"] for u in report["unknown_model_ids"]):
        problems.append(_problem(
            "placeholders_skipped",
            f"{skipped['models']} model id(s) of messages could not get a placeholder row at {skipped['at']}: "
            f"{skipped['reason']} (a constraint of llm_models that a placeholder cannot meet; the other "
            "placeholders were made)",
            "let llm_models accept rows with only an id, a name and a provider (or give the column a default), "
            "then: pgmodelnames sweep --full",
            "or register each such model by hand: INSERT INTO llm_models (id, name, ...) VALUES (...)"))
    if report["history_due_since"]:
        problems.append(_problem(
            "history_pass_due", "the history pass did not finish: messages stored before "
                                f"{report['history_due_since']} may lack their placeholders",
            "pgmodelnames upgrade   (runs it; it blocks no insert)"))
    return problems


def _placeholder_problems(detail: dict[str, Any]) -> list[dict]:
    """Placeholders, by what will name them: a backfill now, a server that
    must answer first, or a person (the ones no server can match)."""
    problems = []
    now = detail["named_by_backfill"]
    if now:
        problems.append(_problem(
            "placeholders", f"{len(now)} placeholder(s) can be named from their servers now "
                            f"({listing(now, 3)})",
            "pgmodelnames backfill   (asks the servers in llm_models.base_url and writes their names)"))
    unresolved = detail["unresolved"]
    stuck = [entry for entry in unresolved if not entry["needs_a_person"]]
    if stuck:
        fixes = [f"{server['url']}: {server['fix']}" for server in detail["servers"] if server.get("fix")]
        problems.append(_problem(
            "placeholders_endpoint_failed",
            f"{len(stuck)} placeholder(s) wait for a server that did not answer "
            f"({listing(sorted({entry['endpoint'] for entry in stuck}), 3, 80)}); its models cannot be checked",
            *fixes, f"or name them now: {stuck[0]['commands']['assign']}"))
    person = [entry for entry in unresolved if entry["needs_a_person"]]
    if person:
        shown = person[:10]
        steps = [f"{person[0]['commands']['assign']}   (one by one: the evidence, the served models, your choice)"]
        steps += [entry["commands"]["map"] for entry in shown]
        if len(person) > len(shown):
            steps.append(f"and {len(person) - len(shown)} more: pgmodelnames backfill --dry-run lists every --map line")
        steps.append("or by hand: pgmodelnames rename UUID \"NAME\"   (a human name, never replaced)")
        problems.append(_problem(
            "placeholders_need_a_person",
            f"{len(person)} model(s) are known only from messages, and no server can match them "
            f"({listing(sorted({entry['reason'] for entry in person}), 3, 80)}). Nothing in a message says which "
            "served model a UUID is: a person must choose (evidence and candidates above)",
            *steps))
    return problems


def _sweep_findings(report: dict[str, Any], problems: list[dict], notes: list[dict]) -> None:
    """Sweep mode: model ids waiting for the next sweep are expected for a while; a sweep that
    has not run for SWEEP_LATE_AFTER while they wait is a problem."""
    p = report["placeholder_mode"]
    waiting = p["waiting_model_ids"]
    since = p["seconds_since_last_sweep"]
    scheduled = "pgmodelnames sweep --schedule   (pg_cron, every minute)"
    if p["below_mark_model_ids"]:
        problems.append(_problem(
            "sweep_below_mark",
            f"sweep mode: {p['below_mark_model_ids']} covered model id(s) in messages have no llm_models row, and "
            f"all their messages lie below the high-water mark on messages.{p['mark_column']} (values the app set: "
            "an import with old timestamps, a clock behind the server's, explicit ids): an incremental sweep "
            "never reads them", "pgmodelnames sweep --full",
            "(pg_cron's nightly full sweep, from pgmodelnames sweep --schedule, reaches them too)"))
    if waiting and (since is None or since > SWEEP_LATE_AFTER):
        when = "no sweep has run yet" if since is None else f"the last sweep ran {since / 60:.0f} min ago"
        problems.append(_problem(
            "sweep_late", f"sweep mode: {waiting} covered model id(s) in messages have no llm_models row and "
                          f"{when}: analytics shows them as UUIDs", "pgmodelnames sweep", scheduled))
    elif waiting:
        notes.append(_problem(
            "sweep_waiting", f"sweep mode: {waiting} covered model id(s) wait for the next sweep "
                             "(model_display_name() names them meanwhile)", "pgmodelnames sweep"))
    if p["method"] == "full":
        notes.append(_problem(
            "sweep_reads_everything", "sweep mode: messages has no index the sweep can read new rows "
                                      "through, so every sweep reads the whole table",
            f"psql: CREATE INDEX CONCURRENTLY ON {report['app_schema']}.messages (created_at);   "
            "(a timestamptz column with DEFAULT now(), or an identity column, indexed)",
            f"or, for set_sweep_method('index'): CREATE INDEX CONCURRENTLY ON {report['app_schema']}.messages "
            "(model_id);"))
    if p["held_back_since"] is not None or p["held_back_pids"]:
        notes.append(_problem(
            "sweep_held_back", "sweep mode: the high-water mark is held back by a transaction that was open "
                               f"during the last sweep (pids {p['held_back_pids']}, open since "
                               f"{p['held_back_since'] or 'unknown'}): each sweep re-reads from the old mark "
                               "until it ends", "end long-running transactions (idle in transaction?)"))
