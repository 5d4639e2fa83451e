"""pgmodelnames backfill: real names for vLLM models, from the servers themselves.

One pass: read llm_models, ask every endpoint (the --endpoint ones and the
base_urls of covered rows) for GET /v1/models concurrently, plan with the
rules in matching.py, then apply in one transaction (or only plan, with
--dry-run), and read the evidence of the placeholders left for a person
(evidence.py). Returns a Report; the command line renders it and owns
--watch and the questions of --assign. The SQL lives in sql/backfill/.

Exit code: a failed endpoint the user named with --endpoint fails the run
(exit 6); one found in the database is reported with its fix and does not,
so that one server needing a key the operator lacks never turns every run
red, also runs aimed at other servers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from psycopg import sql

from pgmodelnames import db, errors, evidence, rename, sqlfiles, sweep, vllm
from pgmodelnames.config import Settings
from pgmodelnames.errors import UserError
from pgmodelnames.names import clean_text
from pgmodelnames.candidates import attach_evidence, shell_arg
from pgmodelnames.matching import REGISTER_PROVIDER, Change, Column, Options, Plan, Row, make_plan
from pgmodelnames.served_models import non_blank, shown_or_none, card_name, screen
from pgmodelnames.server_keys import variable_option

SOURCE_NAMED = "--endpoint"
SOURCE_BASE_URL = "llm_models.base_url"
SOURCE_RECORDED = "recorded by backfill"


@dataclass
class Report:
    dry_run: bool
    endpoints: list[dict]
    plan: Plan
    applied: list[Change]
    exit_code: int
    results: list[vllm.Result] = field(default_factory=list, repr=False)  # the answers, to apply them again
    unusable: list[dict] = field(default_factory=list, repr=False)
    swept: dict | None = None  # the sweep run before the pass (sweep mode), None in a dry run
    # (model uuid, or None for a row --register-new adds; the name it has once the plan is applied)
    names: tuple[tuple[str | None, str | None], ...] = field(default=(), repr=False)


def _query(name: str, schema: str | None = None, **fragments: str) -> str:
    return sqlfiles.render(f"backfill/{name}", schema, **fragments)


def _identifier(conn, name: str) -> str:
    return sql.Identifier(name).as_string(conn)


def _app_schema(conn, settings: Settings) -> str:
    if not conn.execute(_query("installed.sql")).fetchone()[0]:
        raise UserError("pgmodelnames is not installed in this database: run `pgmodelnames upgrade` first",
                        errors.NOT_READY)
    return db.app_schema(conn, settings)


def read_columns(conn, schema: str) -> dict[str, Column]:
    columns = {r[0]: Column(*r) for r in conn.execute(_query("columns.sql", schema)).fetchall()}
    if not columns:
        raise UserError(f"no table {schema}.llm_models (wrong --schema?)", errors.NOT_READY)
    return columns


def read_rows(conn, schema: str) -> list[Row]:
    return [Row(*r) for r in conn.execute(_query("models.sql", schema)).fetchall()]


def discover(options: Options, rows: list[Row]) -> tuple[list[vllm.Endpoint], list[dict]]:
    """The --endpoint URLs (may get their API keys), then the distinct
    base_urls of covered rows, then the endpoints recorded for rows without
    a base_url (these never get a key). A base_url equal to a named endpoint
    is that endpoint."""
    endpoints: dict[str, vllm.Endpoint] = {}
    for raw in options.endpoints:
        url = vllm.normalize_endpoint(raw)
        endpoints.setdefault(url, vllm.Endpoint(url, named=True, raw=raw.strip()))
    unusable: dict[str, dict] = {}
    for row in rows:
        if not row.covered or not row.endpoint_raw:
            continue
        try:
            url = vllm.normalize_endpoint(row.endpoint_raw)
        except vllm.EndpointError as exc:
            shown = vllm.describe_url(row.endpoint_raw)
            unusable.setdefault(shown, {"url": shown, "source": SOURCE_BASE_URL, "status": "skipped",
                                        "error": f"not queried: {exc}", "fix": None, "fails_run": False,
                                        "models": [], "notices": []})
            continue
        endpoints.setdefault(url, vllm.Endpoint(url, named=False, raw=row.endpoint_raw))
    return list(endpoints.values()), list(unusable.values())


def sources(rows: list[Row]) -> dict[str, str]:
    """For endpoints found in the database: where (a base_url, or only a recorded endpoint)."""
    found: dict[str, str] = {}
    for row in rows:
        if row.covered and row.endpoint_url:
            source = SOURCE_BASE_URL if non_blank(row.base_url) else SOURCE_RECORDED
            if found.get(row.endpoint_url) != SOURCE_BASE_URL:
                found[row.endpoint_url] = source
    return found


def _lock_and_apply(conn, schema: str, plan: Plan, columns: dict[str, Column],
                    options: Options) -> list[Change]:
    applied: list[Change] = []
    renames = [change for change in plan.changes if not change.registered]
    current = {}
    if renames:
        current = {r[0]: r for r in conn.execute(_query("lock.sql", schema),
                                                 {"ids": [change.model for change in renames]}).fetchall()}
    record = _query("record.sql")
    for change in plan.changes:
        if change.registered:
            change.model = str(uuid.uuid4())  # made now: a dry run never shows an id the real run will not use
            conn.execute(*_insert(conn, schema, change, columns, options))
        else:
            row = current.get(change.model)
            if row is None:
                plan.left_alone.append(f"{change.model}: deleted meanwhile")
                continue
            if not row[2]:
                plan.left_alone.append(f"{change.model}: renamed meanwhile to {shown_or_none(row[1])!r} "
                                       "(a human name): left alone")
                continue
            if change.human:  # a typed name (--assign): exactly what rename does, in this transaction
                done = rename.rename_in(conn, schema, uuid.UUID(change.model), change.new_name)
                change.old_name = done.old_name
                applied.append(change)
                continue
            params = {"id": change.model, "name": change.new_name}
            fills = []
            for index, (column, value) in enumerate(change.filled.items()):
                params[f"fill{index}"] = value
                clause = _query("fill_column.sql", column=_identifier(conn, column), value=f"%(fill{index})s")
                fills.append("\n".join(line for line in clause.splitlines() if not line.startswith("--")))
            cursor = conn.execute(_query("update.sql", schema, fills="\n".join(fills)), params)
            if cursor.fetchone() is None:
                plan.left_alone.append(f"{change.model}: its name changed meanwhile: left alone")
                continue
            change.old_name = row[1]
        conn.execute(record, {"id": change.model, "name": change.new_name, "endpoint": change.endpoint})
        applied.append(change)
    return applied


def _insert(conn, schema: str, change: Change, columns: dict[str, Column], options: Options):
    values: dict[str, str | None] = {"id": change.model, "name": change.new_name, "provider": REGISTER_PROVIDER}
    if "base_url" in columns:
        values["base_url"] = change.base_url
    values.update(change.filled)
    if "user_id" in columns and options.user_id:
        values["user_id"] = options.user_id
    for column in columns.values():
        if column.needs_value and column.name not in values:
            values[column.name] = ""  # text only: _check_registration refused anything else
    names = list(values)
    query = _query("insert.sql", schema, columns=", ".join(_identifier(conn, name) for name in names),
                   values=", ".join(f"%(v{index})s" for index in range(len(names))))
    return query, {f"v{index}": values[name] for index, name in enumerate(names)}


def _check_registration(columns: dict[str, Column], options: Options) -> None:
    """Refuse --register-new up front when a row cannot be built."""
    if not options.register_new:
        return
    if options.user_id and "user_id" not in columns:
        raise UserError("--user-id given, but llm_models has no user_id column", errors.USAGE)
    if options.user_id and columns["user_id"].type_name == "uuid":
        try:
            uuid.UUID(options.user_id)
        except ValueError:
            raise UserError(f"--user-id {clean_text(options.user_id, 60)!r} is not a UUID", errors.USAGE) from None
    given = {"id", "name", "provider", "base_url"} | ({"user_id"} if options.user_id else set())
    for column in columns.values():
        if column.needs_value and column.name not in given and not column.is_text:
            if column.name == "user_id":
                raise UserError("--register-new: llm_models.user_id is required: pass --user-id UUID", errors.USAGE)
            raise UserError(f"--register-new: llm_models.{column.name} ({column.type_name}) is NOT NULL without "
                            "a default, and pgmodelnames cannot choose a value for it", errors.NOT_READY)


# ----------------------------------------------------------------- one pass

def run_pass(settings: Settings, options: Options, *, results: list[vllm.Result] | None = None,
             unusable: list[dict] | None = None, known_placeholders: frozenset[str] = frozenset()) -> Report:
    """One backfill pass; never prints.

    results (with unusable): the screened answers of an earlier pass, to
    apply what a person chose from them (--assign) without asking the
    servers again. known_placeholders: unresolved placeholders whose
    evidence the caller already has (--watch): not read again."""
    with db.session(settings) as conn:
        with db.transaction(conn):
            schema = _app_schema(conn, settings)
        # Sweep mode: placeholders for the model ids new in messages first, so
        # this pass can name them (a no-op in trigger mode; its own transaction).
        swept = None if options.dry_run else sweep.sweep_in(conn)
        with db.transaction(conn):
            columns = read_columns(conn, schema)
            _check_registration(columns, options)
            rows = read_rows(conn, schema)
        notices: dict[str, list[str]] = {}
        if results is None:
            endpoints, unusable = discover(options, rows)
            # No transaction is open while the servers are asked.
            keys = {key.url: key.key for key in options.keys}
            fetched = vllm.fetch_all(endpoints, keys, options.timeout) if endpoints else []
            screened = [screen(result) for result in fetched]
            results = [result for result, _ in screened]
            notices = {result.endpoint.url: found for result, found in screened}
        if options.dry_run:
            plan = make_plan(rows, results, options, columns)
            applied = list(plan.changes)
        else:
            with db.transaction(conn):
                conn.execute(_query("begin.sql"))
                rows = read_rows(conn, schema)
                plan = make_plan(rows, results, options, columns)
                applied = _lock_and_apply(conn, schema, plan, columns, options)
        wanted = [entry["model"] for entry in plan.unresolved if entry["model"] not in known_placeholders]
        with db.transaction(conn, read_only=True):
            attach_evidence(plan.unresolved, evidence.for_models(conn, schema, wanted))
    found_in = sources(rows)
    keyed = {key.url: key.shown for key in options.keys}
    endpoint_report = [endpoint_entry(result, notices.get(result.endpoint.url, []), found_in, keyed)
                       for result in results] + list(unusable or [])
    failed = any(entry["fails_run"] for entry in endpoint_report)
    named_now = {change.model: change.new_name for change in plan.changes if change.model}
    names = tuple((row.id, named_now.get(row.id, row.name)) for row in rows)
    names += tuple((change.model, change.new_name) for change in plan.changes if change.registered)
    return Report(options.dry_run, endpoint_report, plan, applied,
                  errors.ENDPOINT_FAILED if failed else errors.OK, results, list(unusable or []), swept, names)


def endpoint_entry(result: vllm.Result, notices: list[str], sources: dict[str, str],
                   keyed: dict[str, str] | None = None) -> dict:
    """keyed: endpoint url -> where its key came from ($VAR, a file's path, --api-key)."""
    named = result.endpoint.named
    return {
        "url": result.endpoint.url,
        "source": SOURCE_NAMED if named else sources.get(result.endpoint.url, SOURCE_BASE_URL),
        "key_from": (keyed or {}).get(result.endpoint.url) if named else None,
        "status": "ok" if result.ok else "failed",
        "error": result.error,
        "fix": None if result.ok or named else _fix(result),
        "fails_run": not result.ok and named,
        "models": [{"id": card.id, "root": card.root, "parent": card.parent, "name": card_name(card, result.cards)}
                   for card in result.cards],
        "notices": notices,
        "seconds": round(result.seconds, 3),
    }


def _fix(result: vllm.Result) -> str:
    """What to do about a failed endpoint found in the database (it does not fail the run)."""
    raw = clean_text(result.endpoint.raw or result.endpoint.url, 200)
    url = shell_arg(raw)
    if result.needs_key:
        # The conventional variable, so that the command runs as printed where the key is kept there.
        return (f"name it with its key: pgmodelnames backfill --endpoint {url} {variable_option(raw)} "
                f"(the variable that holds its key; or --api-key-file {url}=PATH)")
    return (f"if the server moved, correct llm_models.base_url; to make its failure fail the run (exit 6), "
            f"name it: --endpoint {url}")
