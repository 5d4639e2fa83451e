"""What servers said, made fit to show and to store: the names of served
models (a LoRA adapter as "<adapter> (LoRA on <base>)", aliases of one model
under its first served name), the cleaning of text for one line, and which
served ids cannot be stored whole. Pure: no database, no HTTP.
"""

from __future__ import annotations

import hashlib
import re

from pgmodelnames import vllm
from pgmodelnames.names import MAX_NAME_CHARS, clean_text, has_hidden, is_usable_name

# A btree index entry holds at most ~2700 bytes, and a random id does not
# compress: a longer served id cannot be stored whole in an indexed column.
MAX_ID_BYTES = 2000


def cut(value: str | None, limit: int = 60) -> str:
    return clean_text(value or "", limit)


def shown_or_none(name: str | None) -> str:
    return "(none)" if name is None else cut(name)


def non_blank(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def listing(items, limit: int = 5, width: int = 60) -> str:
    """'a, b, c, d, e and 3 more': a list cut for a line, never silently."""
    items = [clean_text(item, width) for item in items]
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


# normalize_endpoint() parses with httpx (about 16 µs) and a plan asks for
# every row at every answering endpoint: 10,000 rows at 4 endpoints take
# 1.1 s uncached, 0.3 s cached. A pure function of the stored text, so an
# entry is never stale; tests/conftest.py empties it before each test.
_endpoint_cache: dict[str, str | None] = {}


def endpoint_of(base_url: str | None) -> str | None:
    if not non_blank(base_url):
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


# The last server list indexed, with its index (base cards by root, cards by
# id): every card of a list is named against the same list, and a server may
# list thousands of models, so the lookups must not walk the list each time.
# Keyed by the list's identity (held here, so never reused for another list).
_last_index: list = [None, None]


def _index(cards: list[vllm.Card]) -> tuple[dict[str, list[vllm.Card]], dict[str, vllm.Card]]:
    if _last_index[0] is not cards:
        by_root: dict[str, list[vllm.Card]] = {}
        by_id: dict[str, vllm.Card] = {}
        for other in cards:
            by_id.setdefault(other.id, other)
            if not other.is_adapter and other.root is not None:
                by_root.setdefault(other.root, []).append(other)
        _last_index[:] = [cards, (by_root, by_id)]
    return _last_index[1]


def primary(card: vllm.Card, cards: list[vllm.Card]) -> vllm.Card:
    """The first served name of a model listed under several
    (--served-model-name a b: two cards with one root). An adapter, or a
    card without a root (a server that sends little beyond the id), is
    itself."""
    if card.is_adapter or card.root is None:
        return card
    same_root = _index(cards)[0].get(card.root)
    return same_root[0] if same_root else card


_HF_SNAPSHOT = re.compile(r"(?:^|/)models--([^/]+?)--([^/]+)/snapshots/[^/]+/?$")
_LOCAL_PATH = re.compile(r"^(?:/|\./|\.\./|~/)")


def readable_id(served_id: str) -> str:
    """= pgmodelnames.readable_model_id(): a served id that is a path shown by
    its folder's name (/models/qwen2.5-7b-instruct -> qwen2.5-7b-instruct), a
    Hugging Face cache snapshot by its repository (meta-llama/Llama-3.2-3B-Instruct);
    any other id as it is."""
    snapshot = _HF_SNAPSHOT.search(served_id)
    if snapshot:
        return f"{snapshot.group(1)}/{snapshot.group(2)}"
    folder = served_id.rstrip("/")
    if _LOCAL_PATH.match(served_id) and folder:
        return folder.rsplit("/", 1)[-1]
    return served_id


def card_name(card: vllm.Card, cards: list[vllm.Card] = ()) -> str:
    """The machine name of a served model: its id (the first served name of
    its model, given the server's list), cleaned of control characters and
    kept to MAX_NAME_CHARS, a path shown as readable_id() shows it; a LoRA adapter is named
    "<adapter> (LoRA on <base>)" so it is never confused with its base model."""
    parent = card.parent
    if cards:
        card = primary(card, cards)
        base = _index(cards)[1].get(parent) if parent is not None else None
        if base is not None:
            parent = primary(base, cards).id
    shown_id = readable_id(card.id) if usable(clean_text(readable_id(card.id), MAX_NAME_CHARS)) else card.id
    if parent is not None:
        base = clean_text(readable_id(parent), 80) or "?"
        name = f"{clean_text(shown_id, MAX_NAME_CHARS - len(base) - 12)} (LoRA on {base})"
    else:
        name = clean_text(shown_id, MAX_NAME_CHARS)
    if not usable(name.split(" (LoRA on ")[0] if parent is not None else name):
        digest = hashlib.sha256(card.id.encode("utf-8")).hexdigest()[:8]
        shown = clean_text(card.id, 60)
        name = f"vLLM model {shown}" if shown else f"vLLM model {digest}"
        if parent is not None:
            name += f" (LoRA on {clean_text(parent, 80) or '?'})"
    return name


def alias_ids(card: vllm.Card, cards: list[vllm.Card]) -> list[str]:
    """A base model's served names (they share its root), in the server's
    order; an adapter, or a card without a root, is itself only."""
    if card.is_adapter or card.root is None:
        return [card.id]
    return [other.id for other in _index(cards)[0].get(card.root, ())]


def alias_set(card: vllm.Card, cards: list[vllm.Card]) -> set[str]:
    return set(alias_ids(card, cards))


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
    if has_hidden(value):
        return ("its id contains control, invisible or text-direction characters, which pgmodelnames does not "
                "store (they could reach a terminal or make a dashboard show something else)")
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
