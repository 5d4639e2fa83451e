"""For every placeholder no endpoint can match, what a person needs to
decide: the candidates (the served models of the known and given endpoints,
those no row claims yet first), the likeliest one, the ready-to-run
commands, and the reading of an --assign answer. Pure: no database, no HTTP.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from pgmodelnames import names, vllm
from pgmodelnames.names import clean_text
from pgmodelnames.served_models import _aliases, card_name, primary

# What the printed commands hold where the person must fill something in.
SERVED_ID_BLANK = "SERVED_ID"
NAME_BLANK = '"NAME"'
ENDPOINT_BLANK = "http://VLLM_HOST:8000"


@dataclass(frozen=True)
class Candidate:
    """One served model a placeholder could be: an alias group counts once,
    under its first served name."""

    endpoint: str  # normalised URL
    endpoint_raw: str  # as typed with --endpoint or stored in base_url
    named: bool  # the endpoint was given with --endpoint
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

def _candidates(answered: list[vllm.Result], claims: dict) -> list[Candidate]:
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
            aliases = tuple(sorted(_aliases(first, result.cards) - {first.id}, key=order.index))
            claimed: list[tuple[str | None, str | None]] = []
            for served in (first.id, *aliases):
                for claimer in claims.get((result.endpoint.url, served), []):
                    if claimer not in claimed:
                        claimed.append(claimer)
            base = None
            if first.parent is not None:
                parent = next((c for c in result.cards if c.id == first.parent), None)
                base = primary(parent, result.cards).id if parent is not None else first.parent
            found.append(Candidate(result.endpoint.url, result.endpoint.raw or result.endpoint.url,
                                   result.endpoint.named, first.id, card_name(first, result.cards),
                                   aliases, base, tuple(claimed)))
    return found


def order_candidates(candidates: list[Candidate], own_endpoint: str | None) -> list[Candidate]:
    """Those no row claims yet first, then the placeholder's own endpoint's, then the servers' order."""
    return sorted(candidates, key=lambda c: (bool(c.claimed_by), c.endpoint != own_endpoint))


def suggest(candidates: list[Candidate], own_endpoint: str | None) -> Candidate | None:
    """The likeliest candidate, only where there is exactly one: the one
    served model (of the placeholder's own endpoint, if it answered) that no
    row claims yet, or, when every one is claimed, the only one there is."""
    pool = [c for c in candidates if c.endpoint == own_endpoint] or candidates
    free = [c for c in pool if not c.claimed_by]
    if len(free) == 1:
        return free[0]
    if not free and len(pool) == 1:
        return pool[0]
    return None


def shell_arg(value: str) -> str:
    """A value as one shell word (quoted only when it needs it)."""
    text = clean_text(value, 200)
    return shlex.quote(text)


def _command_endpoints(results: list[vllm.Result]) -> list[str]:
    """The --endpoint options the printed commands repeat: the answering
    endpoints the user named (those from the database are found again)."""
    named = [f"--endpoint {shell_arg(r.endpoint.raw or r.endpoint.url)}" for r in results if r.endpoint.named and r.ok]
    if not any(r.ok for r in results):
        named = [f"--endpoint {ENDPOINT_BLANK}"]
    return named


def unresolved_entry(row, kind: str, reason: str, url: str | None, candidates: list[Candidate],
                     endpoint_options: list[str]) -> dict:
    ordered = order_candidates(candidates, url)
    likeliest = suggest(ordered, url)
    tail = "".join(f" {option}" for option in endpoint_options)
    served = shell_arg(likeliest.served_id) if likeliest is not None else SERVED_ID_BLANK
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
        "suggested": likeliest.served_id if likeliest is not None else None,
        "commands": {
            "map": f"pgmodelnames backfill --map {row.id}={served}{tail}",
            "rename": f"pgmodelnames rename {row.id} {NAME_BLANK}",
            "assign": f"pgmodelnames backfill --assign{tail}",
        },
    }


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


