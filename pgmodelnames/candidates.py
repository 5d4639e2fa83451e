"""For every placeholder no endpoint can match, what a person needs to
decide: the candidates (the served models of the known and given endpoints,
those no row claims yet first), the likeliest one where nothing speaks
against it, the ready-to-run commands, and the --assign walk (the reading of
an answer, the models chosen so far, the names already in use).
Pure: no database, no HTTP.

A printed command must never merge two models: it names no served model
that a row already claims, never gives one served model to two
placeholders, and guesses nothing while a server that was asked is silent.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from pgmodelnames import names, vllm
from pgmodelnames.names import clean_text
from pgmodelnames.served_models import alias_set, card_name, listing, primary
from pgmodelnames.server_keys import ServerKey

# What the printed commands hold where the person must fill something in.
SERVED_ID_BLANK = "SERVED_ID"
NAME_BLANK = '"NAME"'
ENDPOINT_BLANK = "http://VLLM_HOST:8000"

ONLY_FREE = "the only served model no row claims yet"
ONLY_FREE_OWN = "the only served model of its own endpoint that no row claims yet"


@dataclass(frozen=True)
class Candidate:
    """One served model a placeholder could be: an alias group counts once,
    under its first served name."""

    endpoint: str  # normalised URL
    served_id: str  # what --map takes
    name: str  # the name a row mapped to it gets
    aliases: tuple[str, ...]  # its other served names
    base: str | None  # an adapter's base model (its first served name)
    claimed_by: tuple[tuple[str | None, str | None], ...]  # (uuid, name) of rows that already claim it

    def as_json(self, number: int) -> dict:
        return {"number": number, "endpoint": self.endpoint, "served_id": self.served_id, "name": self.name,
                "kind": "adapter" if self.base is not None else "base model", "base": self.base,
                "aliases": list(self.aliases),
                "claimed_by": [{"model": model, "name": name} for model, name in self.claimed_by]}


# ----------------------------------------------------------------- candidates and commands

def candidates_of(answered: list[vllm.Result], claims: dict) -> list[Candidate]:
    """Every served model of the answering endpoints, once per model (aliases
    under the first served name), in the servers' order, with the rows that
    claim it (a row --register-new adds in this pass has no id yet: None)."""
    found = []
    for result in answered:
        order = [card.id for card in result.cards]
        seen: set[str] = set()
        for card in result.cards:
            first = primary(card, result.cards)
            if first.id in seen:
                continue
            seen.add(first.id)
            aliases = tuple(sorted(alias_set(first, result.cards) - {first.id}, key=order.index))
            claimed: list[tuple[str | None, str | None]] = []
            for served in (first.id, *aliases):
                for claimer in claims.get((result.endpoint.url, served), []):
                    if claimer not in claimed:
                        claimed.append(claimer)
            base = None
            if first.parent is not None:
                parent = next((c for c in result.cards if c.id == first.parent), None)
                base = primary(parent, result.cards).id if parent is not None else first.parent
            found.append(Candidate(result.endpoint.url, first.id, card_name(first, result.cards), aliases, base,
                                   tuple(claimed)))
    return found


def order_candidates(candidates: list[Candidate], own_endpoint: str | None) -> list[Candidate]:
    """Those no row claims yet first, then the placeholder's own endpoint's, then the servers' order."""
    return sorted(candidates, key=lambda c: (bool(c.claimed_by), c.endpoint != own_endpoint))


def _key(candidate: dict) -> tuple[str, str]:
    return candidate["endpoint"], candidate["served_id"]


def _short_ids(models: Sequence[str]) -> str:
    return listing([model[:8] for model in models], 3)


def likeliest(entries: list[dict], failed: Sequence[str] = (),
              taken: Mapping[tuple[str, str], str] | None = None) -> dict[str, tuple[dict | None, str]]:
    """For each placeholder entry: (its likeliest candidate or None, why).

    A candidate is the likeliest only where nothing speaks against it:
    every server that was asked answered (a silent one may serve the
    model); it is the one candidate (of the placeholder's own endpoint, if
    that answered) that no row claims and that no earlier answer of an
    --assign walk took (`taken`: (endpoint, served id) -> model); no other
    endpoint lists its id (a --map by id could land there); and no other of
    these placeholders has the same likeliest one (two placeholders are
    never given one served model)."""
    taken = taken or {}
    if failed:
        they = "it serves" if len(failed) == 1 else "they serve"
        note = f"no guess: {listing(failed, 3, 80)} did not answer, and the model may be one {they}"
        return {entry["model"]: (None, note) for entry in entries}
    alone: dict[str, tuple[dict, str]] = {}
    found: dict[str, tuple[dict | None, str]] = {}
    for entry in entries:
        candidates = entry["candidates"]
        own = [c for c in candidates if c["endpoint"] == entry["endpoint"]]
        pool = own or candidates
        free = [c for c in pool if not c["claimed_by"] and _key(c) not in taken]
        if not candidates:
            found[entry["model"]] = (None, "no guess: no server answered")
        elif len(free) > 1:
            where = " on its own endpoint" if own else ""
            found[entry["model"]] = (None, f"no guess: {len(free)} served models{where} have no row yet")
        elif not free:
            chosen = " or was chosen above" if any(_key(c) in taken for c in pool) else ""
            found[entry["model"]] = (None, f"no guess: every served model already has a row{chosen} "
                                           "(a second row for one gives two models one name)")
        else:
            [only] = free
            elsewhere = sorted({c["endpoint"] for c in candidates if c["endpoint"] != only["endpoint"]
                                and (only["served_id"] == c["served_id"] or only["served_id"] in c["aliases"])})
            # A --map by id prefers the row's own endpoint, else the first named: only there is it sure.
            if elsewhere and only["endpoint"] != entry["endpoint"]:
                serve = "serves" if len(elsewhere) == 1 else "serve"
                found[entry["model"]] = (None, f"no guess: {listing(elsewhere, 3, 80)} also {serve} "
                                               f"{clean_text(only['served_id'], 60)!r}")
            else:
                alone[entry["model"]] = (only, ONLY_FREE_OWN if own else ONLY_FREE)
    wanted: dict[tuple[str, str], list[str]] = {}
    for model, (candidate, _) in alone.items():
        wanted.setdefault(_key(candidate), []).append(model)
    for model, (candidate, note) in alone.items():
        rivals = [other for other in wanted[_key(candidate)] if other != model]
        if rivals:
            note = (f"no guess: {clean_text(candidate['served_id'], 60)!r} would also be the likeliest for "
                    f"{_short_ids(rivals)}, and two placeholders are never given one served model")
            candidate = None
        found[model] = (candidate, note)
    return found


def shell_arg(value: str) -> str:
    """A value as one shell word (quoted only when it needs it)."""
    text = clean_text(value, 200)
    return shlex.quote(text)


def command_endpoints(results: list[vllm.Result], keys: Mapping[str, ServerKey] | None = None) -> list[str]:
    """The options the printed commands repeat: the answering endpoints the
    user named (those from the database are found again), each with the
    reference to its key (keys: endpoint url -> its key), never the key."""
    keys = keys or {}
    named = []
    for result in results:
        if result.endpoint.named and result.ok:
            raw = result.endpoint.raw or result.endpoint.url
            key = keys.get(result.endpoint.url)
            named.append(f"--endpoint {shell_arg(raw)}" + (f" {key.option(clean_text(raw, 200))}" if key else ""))
    if not any(r.ok for r in results):
        named = [f"--endpoint {ENDPOINT_BLANK}"]
    return named


def unresolved_entry(row, kind: str, reason: str, url: str | None, candidates: list[Candidate]) -> dict:
    """One placeholder a person must name, without its likeliest candidate
    and commands yet (suggest() adds them, once every entry is known)."""
    ordered = order_candidates(candidates, url)
    return {
        "model": row.id,
        "name": row.name,
        "provider": row.provider,
        "placeholder_name": row.placeholder_name,
        "reason": reason,
        "kind": kind,
        "needs_a_person": kind != "endpoint_failed",
        "endpoint": url,
        "evidence": None,
        "candidates": [candidate.as_json(number) for number, candidate in enumerate(ordered, 1)],
        "suggested": None,
        "suggestion_note": None,
        "commands": {},
    }


def suggest(entries: list[dict], failed: Sequence[str], endpoint_options: list[str]) -> list[dict]:
    """The entries with their likeliest candidate (and why, or why none) and
    their ready-to-run commands, which repeat endpoint_options."""
    tail = "".join(f" {option}" for option in endpoint_options)
    chosen = likeliest(entries, failed)
    for entry in entries:
        candidate, entry["suggestion_note"] = chosen[entry["model"]]
        entry["suggested"] = candidate["served_id"] if candidate is not None else None
        served = shell_arg(candidate["served_id"]) if candidate is not None else SERVED_ID_BLANK
        entry["commands"] = {
            "map": f"pgmodelnames backfill --map {entry['model']}={served}{tail}",
            "rename": f"pgmodelnames rename {entry['model']} {NAME_BLANK}",
            "assign": f"pgmodelnames backfill --assign{tail}",
        }
    return entries


def attach_evidence(unresolved: list[dict], evidence: dict[str, dict]) -> list[dict]:
    """The entries with their evidence, most messages first (then by id)."""
    for entry in unresolved:
        if entry["model"] in evidence:
            entry["evidence"] = evidence[entry["model"]]
    unresolved.sort(key=lambda e: (-((e["evidence"] or {}).get("messages") or 0), e["model"]))
    return unresolved


# ----------------------------------------------------------------- --assign answers

@dataclass(frozen=True)
class Answer:
    """What a person answered for one placeholder."""

    kind: str  # "pick", "name", "skip", "quit", or "again" (with the problem to show)
    candidate: dict | None = None
    name: str | None = None
    problem: str | None = None
    note: str | None = None  # a warning that does not refuse the answer


def read_answer(text: str, entry: dict) -> Answer:
    """A number (a candidate), s (skip), q (stop), or a typed name, held to
    the rules rename holds names to (not blank, no control or invisible
    characters, not a bare UUID, not its placeholder name)."""
    candidates = entry["candidates"]
    word = names.trimmed(text)
    if word.lower() in ("s", "skip"):
        return Answer("skip")
    if word.lower() in ("q", "quit"):
        return Answer("quit")
    if not word:
        return Answer("again", problem="type a number, a name, s to skip or q to stop")
    if word.isdigit():
        number = int(word)
        if 1 <= number <= len(candidates):
            return Answer("pick", candidate=candidates[number - 1])
        if not candidates:
            return Answer("again", problem="there is no served model to choose from: type a name, s or q")
        return Answer("again", problem=f"no candidate {number}: choose 1 to {len(candidates)}, "
                                       "or type a name, s or q")
    try:
        return Answer("name", name=names.human_name(text, entry.get("placeholder_name")))
    except names.BadName as exc:
        return Answer("again", problem=str(exc))


def _row_text(model: str | None, name: str | None) -> str:
    shown = "(no name)" if name is None else repr(clean_text(name, 60))
    return f"row {model} {shown}" if model is not None else f"the row --register-new adds ({shown})"


@dataclass
class Walk:
    """The placeholders of one --assign walk, in order, and what was answered
    so far: a served model chosen for one is not the likeliest for the next,
    choosing a model another row has (or an earlier answer took) asks again
    and says which, and a typed name another model has is warned about, as
    rename warns.

    failed: the endpoints that were asked and did not answer; names: (model
    uuid or None for a row --register-new adds, the name it has once this
    pass is applied) of every llm_models row."""

    entries: list[dict]
    failed: tuple[str, ...] = ()
    names: tuple[tuple[str | None, str | None], ...] = ()
    picks: dict[str, dict] = field(default_factory=dict)  # model -> the candidate chosen for it
    typed: dict[str, str] = field(default_factory=dict)  # model -> the name typed for it
    # (entry index, candidate number) of a claimed model chosen once: choosing it again confirms it
    _pending: tuple[int, int] | None = field(default=None, init=False, repr=False)

    def taken(self) -> dict[tuple[str, str], str]:
        """(endpoint, served id) -> the model it was chosen for in this walk."""
        return {_key(candidate): model for model, candidate in self.picks.items()}

    def likeliest(self, index: int) -> tuple[dict | None, str]:
        """The likeliest candidate of entry `index`, given what was chosen
        so far: the placeholders still ahead compete for it, those answered
        or passed do not."""
        return likeliest(self.entries[index:], self.failed, self.taken())[self.entries[index]["model"]]

    def answer(self, index: int, text: str) -> Answer:
        entry = self.entries[index]
        pending, self._pending = self._pending, None
        answer = read_answer(text, entry)
        if answer.kind == "pick":
            number = answer.candidate["number"]
            holders = self._holders(answer.candidate)
            if holders and pending != (index, number):
                self._pending = (index, number)
                return Answer("again", problem=(
                    f"{number}. {clean_text(answer.candidate['served_id'], 60)} is already the model of "
                    f"{listing(holders, 3, 120)}: choosing it gives two models one name. Type {number} again "
                    "to choose it all the same, or another number, a name, s or q"))
        if answer.kind == "name":
            twins = self._same_name(answer.name)
            if twins:
                answer = Answer("name", name=answer.name, note=(
                    f"note: {len(twins)} other model(s) already have the name {answer.name!r} "
                    f"({listing(twins, 3, 80)}); analytics will group them together"))
        return answer

    def record(self, index: int, answer: Answer) -> None:
        model = self.entries[index]["model"]
        if answer.kind == "pick":
            self.picks[model] = answer.candidate
        elif answer.kind == "name":
            self.typed[model] = answer.name

    def maps(self) -> tuple[tuple[str, str, str], ...]:
        """The picks as --map entries that name the endpoint chosen."""
        return tuple((model, c["served_id"], c["endpoint"]) for model, c in self.picks.items())

    def _holders(self, candidate: dict) -> list[str]:
        """The rows that claim the candidate, and the placeholders it was chosen for above."""
        rows = [_row_text(c["model"], c["name"]) for c in candidate["claimed_by"]]
        return rows + [f"{other} (chosen above)" for other, chosen in self.picks.items()
                       if _key(chosen) == _key(candidate)]

    def _same_name(self, name: str) -> list[str]:
        """The models that have this name, or will have it once the walk is applied (never the
        placeholder being named: its own name is a placeholder's, which read_answer refuses)."""
        final = {other: given for other, given in self.names if other is not None}
        final.update({other: chosen["name"] for other, chosen in self.picks.items()})
        final.update(self.typed)
        twins = [_row_text(other, given) for other, given in final.items() if given == name]
        twins += [_row_text(None, given) for other, given in self.names if other is None and given == name]
        return twins
