"""Backfill's pure rules: which served model names which llm_models row,
and what a person needs to decide the rest.

No database and no HTTP here: the types of a pass, the naming of served
models (LoRA adapters as "<adapter> (LoRA on <base>)", aliases of one model
under its first served name), what a server may send that cannot be stored,
the plan of a pass, and for every placeholder no endpoint can match: the
candidates (the served models, those no row claims yet first), the likeliest
one where nothing speaks against it, and the ready-to-run commands (built in
candidates.py). Unit-tested without a database in tests/test_matching.py
and tests/test_candidates.py.

Matching, per endpoint, for a row whose endpoint is that endpoint (its
base_url, else the endpoint its machine name was recorded from) and whose
name is missing or machine-made (a human name is never touched):
  1. its served_model_name equals a served id;
  2. else its model_id equals a served id, or what one was started from
     (vLLM's root, the --model path; TGI's owned_by);
  3. else, only for a row with neither of its own, the server's only base
     model (aliases of one model, which share a root, count as one).
A row whose own served_model_name/model_id the server does not serve is never
renamed after another model. vLLM lists a model started with several
--served-model-name's once per name, with the same root: every row matched to
any of those names gets the first one's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pgmodelnames import errors, names, vllm
from pgmodelnames.candidates import (SERVED_ID_BLANK, candidates_of, command_endpoints, shell_arg, suggest,
                                     unresolved_entry)
from pgmodelnames.errors import UserError
from pgmodelnames.names import clean_text
from pgmodelnames.served_models import (alias_ids, alias_set, card_name, cut, endpoint_of, listing, non_blank,
                                        shown_or_none, usable)
from pgmodelnames.server_keys import ServerKey

REGISTER_PROVIDER = "vllm"


@dataclass(frozen=True)
class Options:
    """What the command line asked a backfill pass to do (validated there).

    keys: the API key of each --endpoint that has one (server_keys.py);
    maps: (model uuid, served id) from --map, or (model uuid, served id,
    endpoint url) for an --assign pick, which names the endpoint the person
    chose; names: (model uuid, typed name) from --assign, written as rename
    writes them (human names)."""

    endpoints: tuple[str, ...] = ()
    keys: tuple[ServerKey, ...] = ()
    maps: tuple[tuple[str, ...], ...] = ()
    register_new: bool = False
    user_id: str | None = None
    dry_run: bool = False
    timeout: float = 5.0
    names: tuple[tuple[str, str], ...] = ()


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
    recorded_endpoint: str | None = None  # where its machine name came from (backfill, --map)
    placeholder_name: str | None = None  # as pgmodelnames.placeholder_name() spells it for this row

    @property
    def endpoint_raw(self) -> str | None:
        """Where the model is served, as stored: its base_url, else (an empty
        base_url, or no such column) the endpoint its name was taken from."""
        return non_blank(self.base_url) or non_blank(self.recorded_endpoint)

    @property
    def endpoint_url(self) -> str | None:
        return endpoint_of(self.endpoint_raw)


@dataclass(frozen=True)
class Column:
    name: str
    type_name: str
    is_text: bool
    needs_value: bool


@dataclass
class Change:
    model: str | None  # None: a row --register-new will add (its UUID is made when it is inserted)
    old_name: str | None
    new_name: str
    endpoint: str
    served_id: str
    matched_by: str
    filled: dict[str, str] = field(default_factory=dict)
    registered: bool = False
    base_url: str | None = None  # of a registered row
    human: bool = False  # a name a person typed (--assign): written as rename writes it


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    not_registered: list[dict] = field(default_factory=list)
    unmatched: list[dict] = field(default_factory=list)
    unresolved: list[dict] = field(default_factory=list)
    left_alone: list[str] = field(default_factory=list)


# ----------------------------------------------------------------- matching

def match_row(row: Row, cards: list[vllm.Card]) -> tuple[vllm.Card | None, str]:
    """(card, how it matched) or (None, why not), by the rules in the module doc."""
    by_id = {card.id: card for card in cards}
    served, model_id = non_blank(row.served_model_name), non_blank(row.model_id)
    if served and served in by_id:
        return by_id[served], "served_model_name"
    if model_id:
        if model_id in by_id:
            return by_id[model_id], "model_id"
        by_root = [card for card in cards if card.reference is not None and card.reference == model_id]
        bases = [card for card in by_root if not card.is_adapter]
        if bases:  # aliases of one model share its root: the first is vLLM's primary name
            return bases[0], "model_id = root"
        if len(by_root) == 1:
            return by_root[0], "model_id = root"
        if by_root:
            return None, (f"its model_id is the path of several served adapters "
                          f"({listing(card.id for card in by_root)}): use --map")
    if served or model_id:
        own = " / ".join(f"{label} {cut(value)!r}" for label, value in
                         (("served_model_name", served), ("model_id", model_id)) if value)
        return None, (f"the server does not serve its {own} (it serves "
                      f"{listing(card.id for card in cards)}); not renamed after another model")
    bases = [card for card in cards if not card.is_adapter]
    if len({card.root or card.id for card in bases}) == 1:
        return bases[0], "the server's only base model"
    return None, (f"it has no model_id or served_model_name, and the server serves {len(bases)} base models "
                  "(cannot tell which): use --map")


def _fills(row: Row | None, card: vllm.Card, columns: dict[str, Column],
           endpoint_raw: str | None = None) -> dict[str, str]:
    """The optional columns to fill (only where they exist, are text and
    are empty): the served id, an adapter's base, and where the model is
    served (base_url), so that later passes keep the row current."""
    wanted = {"model_id": card.id, "served_model_name": card.id}
    if card.parent is not None:
        wanted["base_model"] = card.parent
    if endpoint_raw:
        wanted["base_url"] = endpoint_raw
    fills = {}
    for name, value in wanted.items():
        column = columns.get(name)
        if column is not None and column.is_text and (row is None or not non_blank(getattr(row, name))):
            fills[name] = value
    return fills


def _mappings(options: Options) -> list[tuple[str, str, str | None]]:
    return [(item[0], item[1], item[2] if len(item) > 2 else None) for item in options.maps]


def _map_source(row: Row, served: str, endpoint: str | None, model: str,
                results: list[vllm.Result]) -> vllm.Result:
    """The endpoint whose list holds the id: the one chosen (--assign), else
    the row's own, else the first (named endpoints come first)."""
    answered = [r for r in results if r.ok]
    listing_it = [r for r in answered if any(card.id == served for card in r.cards)
                  and (endpoint is None or r.endpoint.url == endpoint)]
    if not listing_it:
        served_ids = sorted({card.id for r in answered for card in r.cards})
        failed = [r.endpoint.url for r in results if not r.ok]
        raise UserError(
            f"--map {model}={clean_text(served, 80)!r}: no queried endpoint serves that id"
            + (f" (served: {listing(served_ids, 10)})" if served_ids else "")
            + (f" (failed: {', '.join(failed)})" if failed else "")
            + ("" if results else " (no endpoint queried: add --endpoint URL)"),
            errors.USAGE)
    return next((r for r in listing_it if r.endpoint.url == row.endpoint_url), listing_it[0])


def make_plan(rows: list[Row], results: list[vllm.Result], options: Options,
              columns: dict[str, Column]) -> Plan:
    """What a pass does, in the order its rules rank: a person's choices
    (--map, --assign), the matching rules per endpoint, the served models no
    row claims, then the placeholders still waiting, with their candidates."""
    planning = _Planning(rows, results, options, columns)
    planning.chosen_models()
    planning.typed_names()
    planning.matched_by_rules()
    planning.claims_without_endpoint()
    planning.unclaimed_served_models()
    planning.waiting_placeholders()
    return planning.plan


@dataclass
class _Planning:
    rows: list[Row]
    results: list[vllm.Result]
    options: Options
    columns: dict[str, Column]
    plan: Plan = field(default_factory=Plan)
    done: set[str] = field(default_factory=set)  # rows a person chose for: the rules leave them alone
    # (endpoint url, served id) -> the rows (id, name) that claim that served model
    claims: dict[tuple[str, str], list[tuple[str | None, str | None]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {row.id: row for row in self.rows}
        self.answered = [result for result in self.results if result.ok]

    def claim(self, result: vllm.Result, card: vllm.Card, model: str | None, name: str | None) -> None:
        for served in alias_set(card, result.cards):
            self.claims.setdefault((result.endpoint.url, served), []).append((model, name))

    def chosen_models(self) -> None:
        """--map UUID=SERVED_ID and --assign picks: explicit, checked first, override the rules."""
        for model, served, endpoint in _mappings(self.options):
            row = self.by_id.get(model)
            if row is None:
                raise UserError(f"--map {model}: no llm_models row has this id", errors.USAGE)
            source = _map_source(row, served, endpoint, model, self.results)
            card = next(card for card in source.cards if card.id == served)
            self.claim(source, card, row.id, row.name)
            self.done.add(model)
            if not row.replaceable:
                self.plan.left_alone.append(
                    f"{model}: has the human name {shown_or_none(row.name)!r}; --map ignored "
                    "(pgmodelnames never replaces a human name; use rename)")
                continue
            _plan_change(self.plan, row, card, source, "--assign" if endpoint else "--map", self.columns)

    def typed_names(self) -> None:
        """--assign typed names: human names, written as rename writes them."""
        for model, typed in self.options.names:
            row = self.by_id.get(model)
            if row is None:
                raise UserError(f"--assign: no llm_models row has the id {model}", errors.USAGE)
            self.done.add(model)
            if not row.replaceable:
                self.plan.left_alone.append(
                    f"{model}: has the human name {shown_or_none(row.name)!r}; the typed name is ignored")
                continue
            try:
                name = names.human_name(typed, row.placeholder_name)
            except names.BadName as exc:
                raise UserError(f"--assign {model}: {exc}", errors.USAGE) from None
            self.plan.changes.append(Change(model=row.id, old_name=row.name, new_name=name, endpoint="",
                                            served_id="", matched_by="typed name", human=True))

    def matched_by_rules(self) -> None:
        """Rows at each answering endpoint, by the matching rules."""
        for result in self.answered:
            url, cards = result.endpoint.url, result.cards
            for row in self.rows:
                if row.endpoint_url != url:
                    continue
                card, how = match_row(row, cards)
                if card is not None:  # any row at the endpoint claims its model, human-named or not
                    self.claim(result, card, row.id, row.name)
                if row.id in self.done or not row.covered or not row.replaceable:
                    continue
                if card is None:
                    self.plan.unmatched.append({"model": row.id, "name": row.name, "endpoint": url, "reason": how,
                                                "next_steps": _unmatched_steps(row)})
                    continue
                _plan_change(self.plan, row, card, result, how, self.columns)

    def claims_without_endpoint(self) -> None:
        """A row with no endpoint that names a served model (its
        served_model_name or model_id) already registers it: that model is
        claimed everywhere."""
        for row in self.rows:
            if row.endpoint_url is None and (non_blank(row.served_model_name) or non_blank(row.model_id)):
                for result in self.answered:
                    card, _ = match_row(row, result.cards)
                    if card is not None:
                        self.claim(result, card, row.id, row.name)

    def unclaimed_served_models(self) -> None:
        """Served models no row claims: listed, or registered with --register-new."""
        listed: set[tuple[str, str]] = set()
        for result in self.answered:
            for card in result.cards:
                key = (result.endpoint.url, card.id)
                if key in self.claims or key in listed:
                    continue
                aliases = alias_set(card, result.cards)
                listed |= {(result.endpoint.url, alias) for alias in aliases}  # one entry per model
                entry = {"endpoint": result.endpoint.url, "served_id": card.id,
                         "name": card_name(card, result.cards),
                         "aliases": [alias for alias in alias_ids(card, result.cards) if alias != card.id]}
                self.plan.not_registered.append(entry)
                if self.options.register_new:
                    self.plan.changes.append(Change(
                        model=None, old_name=None, new_name=entry["name"],
                        endpoint=result.endpoint.url, served_id=card.id, matched_by="registered",
                        filled=_fills(None, card, self.columns), registered=True,
                        base_url=result.endpoint.raw or result.endpoint.url))
                    self.claim(result, card, None, entry["name"])  # the row this pass adds

    def waiting_placeholders(self) -> None:
        """Placeholders still waiting for a name, with what a person needs to decide."""
        plan = self.plan
        named_now = {change.model: change.new_name for change in plan.changes if change.model}
        for key, claimers in self.claims.items():  # a claiming row shows the name this pass gives it
            self.claims[key] = [(model, named_now.get(model, name)) for model, name in claimers]
        candidates = candidates_of(self.answered, self.claims)
        commands = command_endpoints(self.results, {key.url: key for key in self.options.keys})
        changed = {change.model for change in plan.changes}
        status = {result.endpoint.url: result for result in self.results}
        reasons = {entry["model"]: entry["reason"] for entry in plan.unmatched}
        for row in self.rows:
            if not row.placeholder or not row.covered or row.id in changed or row.id in self.done:
                continue
            url = row.endpoint_url
            if not row.endpoint_raw:
                kind, reason = "no_endpoint", "no endpoint known: its base_url is empty"
            elif url is None:
                kind, reason = "bad_url", f"its base_url {vllm.describe_url(row.base_url)!r} is not a usable http(s) URL"
            elif url in status and not status[url].ok:
                kind, reason = "endpoint_failed", f"its endpoint {url} failed: {status[url].error}"
            elif row.id in reasons:
                kind, reason = "not_matched", reasons[row.id]
            else:
                kind, reason = "not_queried", "its endpoint was not queried"
            plan.unresolved.append(unresolved_entry(row, kind, reason, url, candidates))
        suggest(plan.unresolved, [result.endpoint.url for result in self.results if not result.ok], commands)


def _plan_change(plan: Plan, row: Row, card: vllm.Card, result: vllm.Result, how: str,
                 columns: dict[str, Column]) -> None:
    name = card_name(card, result.cards)
    fills = _fills(row, card, columns, result.endpoint.raw or result.endpoint.url)
    if name == row.name and not fills:
        return  # already named: nothing to do
    plan.changes.append(Change(model=row.id, old_name=row.name, new_name=name, endpoint=result.endpoint.url,
                               served_id=card.id, matched_by=how, filled=fills))


def _unmatched_steps(row: Row) -> list[str]:
    """For a row whose own model its server no longer serves (or never did)."""
    steps = [f"served under another id? pgmodelnames backfill --map {row.id}={SERVED_ID_BLANK}"]
    if usable(row.name):
        steps.append(f"retired? keep its name (it is then never listed again): "
                     f"pgmodelnames rename {row.id} {shell_arg(row.name)}")
    return steps


