"""Backfill's pure rules: which served model names which llm_models row.

No database and no HTTP here: the types of a pass, the naming of served
models (LoRA adapters as "<adapter> (LoRA on <base>)"), what a server may
send that cannot be stored, and the plan of a pass. Unit-tested on the real
vLLM recordings in tests/test_matching.py.

Matching, per endpoint, for a row whose base_url is that endpoint and whose
name is missing or machine-made (a human name is never touched):
  1. its served_model_name equals a served id;
  2. else its model_id equals a served id, or the root (model path) of one;
  3. else, only for a row with neither of its own, the server's only base
     model (aliases of one model, which share a root, count as one).
A row whose own served_model_name/model_id the server does not serve is never
renamed after another model.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field

from pgmodelnames import errors, vllm
from pgmodelnames.errors import UserError
from pgmodelnames.names import MAX_NAME_CHARS, clean_text, is_usable_name

REGISTER_PROVIDER = "vllm"
# A btree index entry holds at most ~2700 bytes, and a random id does not
# compress: a longer served id cannot be stored whole in an indexed column.
MAX_ID_BYTES = 2000


@dataclass(frozen=True)
class Options:
    """What the command line asked a backfill pass to do (validated there)."""

    endpoints: tuple[str, ...] = ()
    api_key: str | None = None
    maps: tuple[tuple[str, str], ...] = ()
    register_new: bool = False
    user_id: str | None = None
    dry_run: bool = False
    timeout: float = 5.0


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


def _short(value: str | None, limit: int = 60) -> str:
    return clean_text(value or "", limit)


def _show(name: str | None) -> str:
    return "(none)" if name is None else _short(name)


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
    return is_usable_name(name)


def card_name(card: vllm.Card) -> str:
    """The machine name of a served model: its id, cleaned of control
    characters and kept to MAX_NAME_CHARS; a LoRA adapter is named
    "<adapter> (LoRA on <base>)" so it is never confused with its base model."""
    if card.parent is not None:
        base = clean_text(card.parent, 80) or "?"
        name = f"{clean_text(card.id, MAX_NAME_CHARS - len(base) - 12)} (LoRA on {base})"
    else:
        name = clean_text(card.id, MAX_NAME_CHARS)
    if not usable(name.split(" (LoRA on ")[0] if card.parent else name):
        digest = hashlib.sha256(card.id.encode("utf-8")).hexdigest()[:8]
        shown = clean_text(card.id, 60)
        name = f"vLLM model {shown}" if shown else f"vLLM model {digest}"
        if card.parent is not None:
            name += f" (LoRA on {clean_text(card.parent, 80) or '?'})"
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
                f"--map {model}={clean_text(served, 80)!r}: no queried endpoint serves that id"
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


# ----------------------------------------------------------------- what can be stored

def unstorable(value: str) -> str | None:
    """Why a served id cannot be stored whole, or None."""
    if "\x00" in value:
        return "its id contains a NUL character, which PostgreSQL text cannot hold"
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > MAX_ID_BYTES:
        return (f"its id is {len(value)} characters ({size} bytes), too long to store in an indexed column "
                f"(over {MAX_ID_BYTES} bytes); it is not stored truncated")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "its id is not valid Unicode (lone surrogate)"
    return None


def screen(result: vllm.Result) -> tuple[vllm.Result, list[str]]:
    """A server's answer without the cards that cannot be stored, with a
    notice for each; an answer left with no card is a failed endpoint."""
    if not result.ok:
        return result, []
    kept, notices = [], []
    for position, card in enumerate(result.cards, 1):
        problem = unstorable(card.id) or (card.parent is not None and unstorable(card.parent))
        if problem:
            notices.append(f"skipped served model {position} ({clean_text(card.id, 40)}): {problem}")
            continue
        root = card.root if card.root is None or not unstorable(card.root) else None  # only matched, never stored
        kept.append(vllm.Card(card.id, root, card.parent, card.owned_by))
    if not kept:
        return vllm.Result(result.endpoint, error="the server lists no model that can be stored (all skipped)",
                           seconds=result.seconds), notices
    return vllm.Result(result.endpoint, cards=kept, seconds=result.seconds), notices
