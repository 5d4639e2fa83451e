"""pgmodelnames backfill: real names for vLLM models, from the servers themselves.

One pass: read llm_models, ask every endpoint (the --endpoint ones and the
base_urls of covered rows) for GET /v1/models concurrently, plan, then apply
in one transaction (or print the plan with --dry-run). --watch repeats the
pass. The SQL lives in sql/backfill/; this module decides what to write.

Matching, per endpoint, for a row whose base_url is that endpoint and whose
name is missing or machine-made (a human name is never touched):
  1. its served_model_name equals a served id;
  2. else its model_id equals a served id, or the root (model path) of one;
  3. else, only for a row with neither of its own, the server's only base
     model (aliases of one model, which share a root, count as one).
A row whose own served_model_name/model_id the server does not serve is never
renamed after another model. LoRA adapters (cards with a parent) are named
"<adapter> (LoRA on <base>)".
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Iterable

from psycopg import sql

from pgmodelnames import errors, names, runner, sqlfiles, vllm
from pgmodelnames.errors import UserError

MAX_NAME_CHARS = 200
REGISTER_PROVIDER = "vllm"


# ----------------------------------------------------------------- options

@dataclass(frozen=True)
class Options:
    endpoints: tuple[str, ...]
    api_key: str | None
    maps: tuple[tuple[str, str], ...]
    register_new: bool
    user_id: str | None
    dry_run: bool
    json: bool
    timeout: float
    watch: float | None


def parse_options(args) -> Options:
    timeout = float(args.timeout)
    if not 0 < timeout <= 600:
        raise UserError("--timeout must be between 0 and 600 seconds", errors.USAGE)
    if args.watch is not None and not 0 < args.watch <= 86400:
        raise UserError("--watch must be a positive number of seconds", errors.USAGE)
    api_key = args.api_key or os.environ.get("VLLM_API_KEY") or None
    if api_key is not None and not re.fullmatch(r"[\x21-\x7e]+", api_key):
        raise UserError("the API key must be printable ASCII without spaces", errors.USAGE)
    for raw in args.endpoint:
        try:
            vllm.normalize_endpoint(raw)
        except vllm.EndpointError as exc:
            raise UserError(f"--endpoint {vllm.describe_url(raw)}: {exc}", errors.USAGE) from None
    maps: dict[str, str] = {}
    for item in args.map:
        model, sep, served = item.partition("=")
        try:
            model = str(uuid.UUID(model.strip()))
        except ValueError:
            model = ""
        served = served.strip()
        if not sep or not model or not served:
            raise UserError(f"--map {vllm.clean_text(item, 80)!r}: expected UUID=SERVED_ID "
                            "(the llm_models id and a model id a queried server lists)", errors.USAGE)
        if maps.get(model, served) != served:
            raise UserError(f"--map {model} is given twice with different served ids", errors.USAGE)
        maps[model] = served
    if args.watch is not None and args.dry_run:
        raise UserError("--watch and --dry-run do not go together (a dry run changes nothing to watch)",
                        errors.USAGE)
    if args.user_id and not args.register_new:
        raise UserError("--user-id only applies with --register-new", errors.USAGE)
    return Options(tuple(args.endpoint), api_key, tuple(maps.items()), bool(args.register_new),
                   args.user_id.strip() if args.user_id else None, bool(args.dry_run), bool(args.json),
                   timeout, args.watch)


# ----------------------------------------------------------------- data

@dataclass(frozen=True)
class Row:
    id: str
    name: str | None
    provider: str | None
    covered: bool
    base_url: str | None
    model_id: str | None
    served_model_name: str | None
    base_model: str | None
    replaceable: bool  # missing or machine name: backfill may write it
    placeholder: bool  # still named like a placeholder (or nameless)

    @property
    def endpoint_url(self) -> str | None:
        return _endpoint_of(self.base_url)


@dataclass(frozen=True)
class Column:
    name: str
    type_name: str
    is_text: bool
    needs_value: bool


@dataclass
class Change:
    model: str
    old_name: str | None
    new_name: str
    endpoint: str
    served_id: str
    matched_by: str
    filled: dict[str, str] = field(default_factory=dict)
    registered: bool = False
    base_url: str | None = None  # of a registered row


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    not_registered: list[dict] = field(default_factory=list)
    unmatched: list[dict] = field(default_factory=list)
    unresolved: list[dict] = field(default_factory=list)
    left_alone: list[str] = field(default_factory=list)


@dataclass
class Report:
    dry_run: bool
    endpoints: list[dict]
    plan: Plan
    applied: list[Change]
    exit_code: int


def _own(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


_endpoint_cache: dict[str, str | None] = {}


def _endpoint_of(base_url: str | None) -> str | None:
    if not _own(base_url):
        return None
    if base_url not in _endpoint_cache:
        try:
            _endpoint_cache[base_url] = vllm.normalize_endpoint(base_url)
        except vllm.EndpointError:
            _endpoint_cache[base_url] = None
    return _endpoint_cache[base_url]


# ----------------------------------------------------------------- naming

def usable(name: str | None) -> bool:
    """Mirror of pgmodelnames.is_usable_name(): not blank, not a bare UUID."""
    text = (name or "").strip(" ")
    return bool(text) and not names.looks_like_uuid(text)


def card_name(card: vllm.Card) -> str:
    """The machine name of a served model: its id, cleaned of control
    characters and kept to MAX_NAME_CHARS; a LoRA adapter is named
    "<adapter> (LoRA on <base>)" so it is never confused with its base model."""
    if card.parent is not None:
        base = vllm.clean_text(card.parent, 80) or "?"
        name = f"{vllm.clean_text(card.id, MAX_NAME_CHARS - len(base) - 12)} (LoRA on {base})"
    else:
        name = vllm.clean_text(card.id, MAX_NAME_CHARS)
    if not usable(name.split(" (LoRA on ")[0] if card.parent else name):
        digest = hashlib.sha256(card.id.encode("utf-8")).hexdigest()[:8]
        shown = vllm.clean_text(card.id, 60)
        name = f"vLLM model {shown}" if shown else f"vLLM model {digest}"
        if card.parent is not None:
            name += f" (LoRA on {vllm.clean_text(card.parent, 80) or '?'})"
    return name


# ----------------------------------------------------------------- matching

def match_row(row: Row, cards: list[vllm.Card]) -> tuple[vllm.Card | None, str]:
    """(card, how it matched) or (None, why not), by the rules in the module doc."""
    by_id = {card.id: card for card in cards}
    served, model_id = _own(row.served_model_name), _own(row.model_id)
    if served and served in by_id:
        return by_id[served], "served_model_name"
    if model_id:
        if model_id in by_id:
            return by_id[model_id], "model_id"
        by_root = [card for card in cards if card.root is not None and card.root == model_id]
        bases = [card for card in by_root if not card.is_adapter]
        if bases:  # aliases of one model share its root: the first is vLLM's primary name
            return bases[0], "model_id = root"
        if len(by_root) == 1:
            return by_root[0], "model_id = root"
        if by_root:
            return None, ("its model_id is the path of several served adapters ("
                          + ", ".join(_short(card.id) for card in by_root[:5]) + "): use --map")
    if served or model_id:
        own = " / ".join(f"{label} {_short(value)!r}" for label, value in
                         (("served_model_name", served), ("model_id", model_id)) if value)
        return None, (f"the server does not serve its {own} (it serves "
                      + ", ".join(_short(card.id) for card in cards[:5])
                      + (", ..." if len(cards) > 5 else "") + "); not renamed after another model")
    bases = [card for card in cards if not card.is_adapter]
    if len({card.root or card.id for card in bases}) == 1:
        return bases[0], "the server's only base model"
    return None, (f"it has no model_id or served_model_name, and the server serves {len(bases)} base models "
                  "(cannot tell which): use --map")


def _aliases(card: vllm.Card, cards: list[vllm.Card]) -> set[str]:
    """A base model's served names (they share its root); an adapter is itself only."""
    if card.is_adapter or card.root is None:
        return {card.id}
    return {other.id for other in cards if not other.is_adapter and other.root == card.root}


def _fills(row: Row | None, card: vllm.Card, columns: dict[str, Column]) -> dict[str, str]:
    wanted = {"model_id": card.id, "served_model_name": card.id}
    if card.parent is not None:
        wanted["base_model"] = card.parent
    fills = {}
    for name, value in wanted.items():
        column = columns.get(name)
        if column is not None and column.is_text and (row is None or not _own(getattr(row, name))):
            fills[name] = value
    return fills


def make_plan(rows: list[Row], results: list[vllm.Result], options: Options,
              columns: dict[str, Column]) -> Plan:
    plan = Plan()
    by_id = {row.id: row for row in rows}
    answered = [result for result in results if result.ok]
    done: set[str] = set()  # rows already planned (mapped or matched)
    claimed: dict[str, set[str]] = {result.endpoint.url: set() for result in answered}

    # --map UUID=SERVED_ID: explicit, checked first, overrides the rules.
    for model, served in options.maps:
        row = by_id.get(model)
        if row is None:
            raise UserError(f"--map {model}: no llm_models row has this id", errors.USAGE)
        source = next((r for r in answered for card in r.cards if card.id == served), None)
        if source is None:
            served_ids = sorted({card.id for r in answered for card in r.cards})
            failed = [r.endpoint.url for r in results if not r.ok]
            raise UserError(
                f"--map {model}={vllm.clean_text(served, 80)!r}: no queried endpoint serves that id"
                + (f" (served: {', '.join(_short(s) for s in served_ids[:10])})" if served_ids else "")
                + (f" (failed: {', '.join(failed)})" if failed else "")
                + ("" if results else " (no endpoint queried: add --endpoint URL)"),
                errors.USAGE)
        card = next(card for card in source.cards if card.id == served)
        claimed[source.endpoint.url].add(card.id)
        done.add(model)
        if not row.replaceable:
            plan.left_alone.append(f"{model}: has the human name {_show(row.name)!r}; --map ignored "
                                   "(pgmodelnames never replaces a human name; use rename)")
            continue
        _plan_change(plan, row, card, source, "--map", columns)

    # Rows at each answering endpoint, by the matching rules.
    for result in answered:
        url, cards = result.endpoint.url, result.cards
        for row in rows:
            if row.endpoint_url != url:
                continue
            card, how = match_row(row, cards)
            if card is not None:  # any row at the endpoint claims its model, human-named or not
                claimed[url] |= _aliases(card, cards)
            if row.id in done or not row.covered or not row.replaceable:
                continue
            if card is None:
                plan.unmatched.append({"model": row.id, "name": row.name, "endpoint": url, "reason": how})
                continue
            done.add(row.id)
            _plan_change(plan, row, card, result, how, columns)

    # Served models no row claims: listed, or registered with --register-new.
    for result in answered:
        for card in result.cards:
            if card.id in claimed[result.endpoint.url]:
                continue
            aliases = _aliases(card, result.cards)
            claimed[result.endpoint.url] |= aliases
            entry = {"endpoint": result.endpoint.url, "served_id": card.id, "name": card_name(card),
                     "aliases": [c.id for c in result.cards if c.id in aliases and c.id != card.id]}
            plan.not_registered.append(entry)
            if options.register_new:
                plan.changes.append(Change(
                    model=str(uuid.uuid4()), old_name=None, new_name=card_name(card),
                    endpoint=result.endpoint.url, served_id=card.id, matched_by="registered",
                    filled=_fills(None, card, columns), registered=True,
                    base_url=result.endpoint.raw or result.endpoint.url))

    # Placeholders still waiting for a name, with what would resolve them.
    changed = {change.model for change in plan.changes}
    status = {result.endpoint.url: result for result in results}
    reasons = {entry["model"]: entry["reason"] for entry in plan.unmatched}
    for row in rows:
        if not row.placeholder or not row.covered or row.id in changed or row.id in done:
            continue
        url = row.endpoint_url
        if not _own(row.base_url):
            reason = "no endpoint known (its base_url is empty)"
        elif url is None:
            reason = f"its base_url {vllm.describe_url(row.base_url)!r} is not a usable http(s) URL"
        elif url in status and not status[url].ok:
            reason = f"its endpoint {url} failed: {status[url].error}"
        else:
            reason = reasons.get(row.id, "its endpoint was not queried")
        here = [i for e in plan.not_registered if e["endpoint"] == url for i in [e["served_id"], *e["aliases"]]]
        candidates = here or list(dict.fromkeys(i for e in plan.not_registered for i in [e["served_id"], *e["aliases"]]))
        served = list(dict.fromkeys(card.id for result in answered for card in result.cards
                                    if url is None or result.endpoint.url == url))
        plan.unresolved.append({"model": row.id, "name": row.name, "reason": reason,
                                "candidates": candidates[:10], "served": served[:10]})
    return plan


def _plan_change(plan: Plan, row: Row, card: vllm.Card, result: vllm.Result, how: str,
                 columns: dict[str, Column]) -> None:
    name = card_name(card)
    fills = _fills(row, card, columns)
    if name == row.name and not fills:
        return  # already named: nothing to do
    plan.changes.append(Change(model=row.id, old_name=row.name, new_name=name, endpoint=result.endpoint.url,
                               served_id=card.id, matched_by=how, filled=fills))


# ----------------------------------------------------------------- database

def _query(name: str, schema: str | None = None) -> str:
    if schema is None:
        return (sqlfiles.SQL_DIR / "backfill" / name).read_text(encoding="utf-8")
    return sqlfiles.render(f"backfill/{name}", schema)


def _app_schema(conn, settings) -> str:
    if not conn.execute(_query("installed.sql")).fetchone()[0]:
        raise UserError("pgmodelnames is not installed in this database: run `pgmodelnames upgrade` first",
                        errors.NOT_READY)
    schema = runner.app_schema(conn, settings)
    if "{" in schema or "}" in schema:  # update.sql and insert.sql use {markers} for their column lists
        raise UserError(f"backfill does not support braces in the app schema name {schema!r}", errors.NOT_READY)
    return schema


def _columns(conn, schema: str) -> dict[str, Column]:
    columns = {r[0]: Column(*r) for r in conn.execute(_query("columns.sql", schema)).fetchall()}
    if not columns:
        raise UserError(f"no table {schema}.llm_models (wrong --schema?)", errors.NOT_READY)
    return columns


def _rows(conn, schema: str) -> list[Row]:
    return [Row(*r) for r in conn.execute(_query("models.sql", schema)).fetchall()]


def discover(options: Options, rows: list[Row]) -> tuple[list[vllm.Endpoint], list[dict]]:
    """The --endpoint URLs (may get the API key), then the distinct base_urls
    of covered rows (never get it). A base_url equal to a named endpoint is
    that endpoint."""
    endpoints: dict[str, vllm.Endpoint] = {}
    for raw in options.endpoints:
        url = vllm.normalize_endpoint(raw)
        endpoints.setdefault(url, vllm.Endpoint(url, named=True, raw=raw.strip()))
    unusable: dict[str, dict] = {}
    for row in rows:
        if not row.covered or not _own(row.base_url):
            continue
        try:
            url = vllm.normalize_endpoint(row.base_url)
        except vllm.EndpointError as exc:
            shown = vllm.describe_url(row.base_url)
            unusable.setdefault(shown, {"url": shown, "source": "llm_models.base_url", "status": "skipped",
                                        "error": f"not queried: {exc}", "models": [], "notices": []})
            continue
        endpoints.setdefault(url, vllm.Endpoint(url, named=False, raw=row.base_url.strip()))
    return list(endpoints.values()), list(unusable.values())


def _lock_and_apply(conn, schema: str, plan: Plan, columns: dict[str, Column],
                    options: Options) -> list[Change]:
    applied: list[Change] = []
    renames = [change for change in plan.changes if not change.registered]
    current = {}
    if renames:
        current = {r[0]: r for r in conn.execute(_query("lock.sql", schema),
                                                 {"ids": [change.model for change in renames]}).fetchall()}
    record = _query("record.sql")
    update_template = _query("update.sql", schema)
    fill_template = _query("fill_column.sql")
    insert_template = _query("insert.sql", schema)
    for change in plan.changes:
        if change.registered:
            conn.execute(*_insert(insert_template, change, columns, options))
        else:
            row = current.get(change.model)
            if row is None:
                plan.left_alone.append(f"{change.model}: deleted meanwhile")
                continue
            if not row[2]:
                plan.left_alone.append(f"{change.model}: renamed meanwhile to {_show(row[1])!r} "
                                       "(a human name): left alone")
                continue
            params = {"id": change.model, "name": change.new_name}
            fills = sql.SQL("")
            for index, (column, value) in enumerate(change.filled.items()):
                params[f"fill{index}"] = value
                fills += sql.SQL(fill_template).format(col=sql.Identifier(column),
                                                      value=sql.Placeholder(f"fill{index}"))
            cursor = conn.execute(sql.SQL(update_template).format(fills=fills), params)
            if cursor.fetchone() is None:
                plan.left_alone.append(f"{change.model}: its name changed meanwhile: left alone")
                continue
            change.old_name = row[1]
        conn.execute(record, {"id": change.model, "name": change.new_name, "endpoint": change.endpoint})
        applied.append(change)
    return applied


def _insert(template: str, change: Change, columns: dict[str, Column], options: Options):
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
    query = sql.SQL(template).format(
        columns=sql.SQL(", ").join(sql.Identifier(name) for name in names),
        values=sql.SQL(", ").join(sql.Placeholder(f"v{index}") for index in range(len(names))))
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
            raise UserError(f"--user-id {vllm.clean_text(options.user_id, 60)!r} is not a UUID", errors.USAGE) from None
    given = {"id", "name", "provider", "base_url"} | ({"user_id"} if options.user_id else set())
    for column in columns.values():
        if column.needs_value and column.name not in given and not column.is_text:
            if column.name == "user_id":
                raise UserError("--register-new: llm_models.user_id is required: pass --user-id UUID", errors.USAGE)
            raise UserError(f"--register-new: llm_models.{column.name} ({column.type_name}) is NOT NULL without "
                            "a default, and pgmodelnames cannot choose a value for it", errors.NOT_READY)


# ----------------------------------------------------------------- one pass

def run_pass(settings, options: Options) -> Report:
    with runner.connect(settings, autocommit=True) as conn, runner.database_errors():
        schema = _app_schema(conn, settings)
        columns = _columns(conn, schema)
        _check_registration(columns, options)
        rows = _rows(conn, schema)
        endpoints, unusable = discover(options, rows)
        # No transaction is open while the servers are asked.
        results = vllm.fetch_all(endpoints, options.api_key, options.timeout) if endpoints else []
        if options.dry_run:
            plan = make_plan(rows, results, options, columns)
            applied = list(plan.changes)
        else:
            with conn.transaction():
                conn.execute(_query("begin.sql"))
                plan = make_plan(_rows(conn, schema), results, options, columns)
                applied = _lock_and_apply(conn, schema, plan, columns, options)
    endpoint_report = [_endpoint_entry(result) for result in results] + unusable
    failed = any(not result.ok for result in results)
    return Report(options.dry_run, endpoint_report, plan, applied,
                  errors.ENDPOINT_FAILED if failed else errors.OK)


def _endpoint_entry(result: vllm.Result) -> dict:
    return {
        "url": result.endpoint.url,
        "source": "--endpoint" if result.endpoint.named else "llm_models.base_url",
        "status": "ok" if result.ok else "failed",
        "error": result.error,
        "models": [{"id": card.id, "root": card.root, "parent": card.parent, "name": card_name(card)}
                   for card in result.cards],
        "notices": list(result.notices),
        "seconds": round(result.seconds, 3),
    }


# ----------------------------------------------------------------- output

def _short(value: str | None, limit: int = 60) -> str:
    return vllm.clean_text(value or "", limit)


def _show(name: str | None) -> str:
    return "(none)" if name is None else _short(name)


def report_json(report: Report) -> dict:
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
        "exit_code": report.exit_code,
    }


def _still_unregistered(report: Report) -> list[dict]:
    registered = {(c.endpoint, c.served_id) for c in report.applied if c.registered}
    return [e for e in report.plan.not_registered if (e["endpoint"], e["served_id"]) not in registered]


def _change_json(change: Change) -> dict:
    data = asdict(change)
    data.pop("base_url")
    return data


def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


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
    out = _table(lines) if lines else []
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
    return _table(rows)


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


def report_text(report: Report) -> str:
    plan, lines = report.plan, []
    if report.dry_run:
        lines.append("dry run: nothing is changed")
    lines.append("endpoints:")
    lines += _endpoint_lines(report.endpoints) or ["  none: pass --endpoint URL, or set base_url on your vLLM rows"]
    lines += _applied_lines(report)
    unregistered = _still_unregistered(report)
    if unregistered:
        lines.append("served but not registered (no llm_models row; add them with --register-new):")
        lines += _table([[e["endpoint"], _short(e["served_id"]), f"would be named {_short(e['name'])!r}"
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


def _emit(text: str, options: Options) -> None:
    # Belt and braces: whatever a server echoed, the key is never printed.
    print(errors.redact(text, (options.api_key or "",)), flush=True)


# ----------------------------------------------------------------- entry points

def run(settings, args) -> int:
    options = parse_options(args)
    if options.watch is not None:
        return watch(settings, options)
    report = run_pass(settings, options)
    _emit(json.dumps(report_json(report), indent=2, ensure_ascii=False) if options.json else report_text(report),
          options)
    return report.exit_code


def watch(settings, options: Options, stop: threading.Event | None = None) -> int:
    """Repeat the pass every options.watch seconds until SIGTERM/SIGINT (or
    `stop` is set), finishing the pass under way first. After the first pass
    only what changed is printed: names written, rows registered, endpoints
    that went down or came back."""
    stop = stop or threading.Event()
    handlers = {}
    if threading.current_thread() is threading.main_thread():
        def on_signal(signum, _frame):
            if stop.is_set() and signum == signal.SIGINT:
                raise KeyboardInterrupt  # a second Ctrl-C: stop now
            stop.set()
        for signum in (signal.SIGTERM, signal.SIGINT):
            handlers[signum] = signal.signal(signum, on_signal)
    passes, last_status, last_error = 0, None, None
    try:
        while True:
            passes += 1
            try:
                report = run_pass(settings, options)
                last_error = None
            except UserError as exc:
                if passes == 1:
                    raise  # a first pass that cannot run is a setup mistake: exit with its code
                message = errors.redact(str(exc), (options.api_key or "",))
                if message != last_error:
                    print(f"pgmodelnames: error: {message} (retrying every {options.watch:g} s)",
                          file=sys.stderr, flush=True)
                last_error = message
                report = None
            if report is not None:
                status = {e["url"]: (e["status"], e["error"]) for e in report.endpoints}
                if last_status is None:
                    _emit(json.dumps(report_json(report), ensure_ascii=False) if options.json
                          else report_text(report), options)
                else:
                    _emit_changes(report, last_status, status, options)
                last_status = status
            if stop.wait(options.watch):
                break
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    print(f"pgmodelnames: backfill --watch stopped after {passes} pass{'es' if passes != 1 else ''}",
          file=sys.stderr, flush=True)
    return errors.OK


def _emit_changes(report: Report, before: dict, after: dict, options: Options) -> None:
    moved = [e for e in report.endpoints if before.get(e["url"]) != after[e["url"]]]
    if not report.applied and not moved:
        return
    if options.json:
        document = report_json(report)
        document["endpoints"] = moved
        document["at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        _emit(json.dumps(document, ensure_ascii=False), options)
        return
    lines = [time.strftime("%Y-%m-%d %H:%M:%S")]
    if moved:
        lines += _endpoint_lines(moved)
    lines += _applied_lines(report)
    _emit("\n".join(lines), options)
