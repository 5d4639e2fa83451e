"""Backfill's pure rules (matching.py), table-driven: no PostgreSQL, no HTTP.

Served models come from the real vLLM recordings (fixtures/vllm/*.json) through
vllm.parse_models; a card no recording has (a second base model, unstorable
ids) is a copy of a recorded card with its id changed. Rows are built
directly. Each table row is one rule of matching.py's docstring and code.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from pgmodelnames import errors, matching, names, served_models, vllm
from pgmodelnames.errors import UserError
from pgmodelnames.matching import Column, Options, Row
from recorded_vllm import RECORDINGS

URL = "http://gpu1:8000"
OTHER = "http://gpu2:8000"
A = "aaaaaaaa-0000-4000-8000-00000000000a"
B = "bbbbbbbb-0000-4000-8000-00000000000b"
U = "fdab6388-0000-4000-8000-000000000001"
COLUMNS = {name: Column(name, "text", True, False) for name in ("model_id", "served_model_name", "base_model")}


def cards(recording: str, *extra: dict, drop: tuple[str, ...] = ()) -> list[vllm.Card]:
    """The cards of a recorded answer, with extra cards made from its first one (fields
    overridden), without the fields in drop (as servers other than vLLM send them)."""
    doc = json.loads((RECORDINGS / f"{recording}.json").read_bytes())
    doc["data"] += [{**doc["data"][0], **fields} for fields in extra]
    doc["data"] = [{k: v for k, v in item.items() if k not in drop} for item in doc["data"]]
    return vllm.parse_models(json.dumps(doc).encode())


def card(recording: str, card_id: str, **fields) -> vllm.Card:
    """A recorded card by its id; a new id (or fields) makes a copy of the recording's first card."""
    recorded = cards(recording)
    if not fields and any(c.id == card_id for c in recorded):
        return next(c for c in recorded if c.id == card_id)
    return cards(recording, {"id": card_id, **fields})[-1]


def answer(served: list[vllm.Card], url: str = URL) -> vllm.Result:
    return vllm.Result(vllm.Endpoint(url, named=True, raw=url), cards=served)


def failure(url: str = URL, error: str = "connection refused: nothing listens on that host and port") -> vllm.Result:
    return vllm.Result(vllm.Endpoint(url, named=True, raw=url), error=error)


def row(model: str = A, *, name: str | None = None, covered: bool = True, base_url: str | None = URL,
        model_id: str | None = None, served: str | None = None, replaceable: bool = True,
        placeholder: bool = True) -> Row:
    return Row(model, name, "vllm", covered, base_url, model_id, served, None, replaceable, placeholder)


B1 = cards("b1_served_name_v1_models")  # tiny-llama (root /tmp/tiny-llama)
B2 = cards("b2_two_names_v1_models")  # tiny-llama, tiny-alias: one model, two served names
C1 = cards("c1_lora_v1_models")  # tiny-llama + my-adapter (root /tmp/tiny-lora, parent tiny-llama)
C2 = cards("c2_lora_multi_v1_models")  # tiny-llama, tiny-alias + three adapters of root /tmp/tiny-lora
TWO_MODELS = cards("b1_served_name_v1_models", {"id": "qwen-7b", "root": "/models/qwen-7b"})
NO_ROOTS = cards("b2_two_names_v1_models", drop=("root",))  # two ids, nothing says they are one model


def sha8(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def test_the_recordings_are_what_the_tables_assume():
    assert [(c.id, c.root, c.parent) for c in C2] == [
        ("tiny-llama", "/tmp/tiny-llama", None), ("tiny-alias", "/tmp/tiny-llama", None),
        ("my-adapter", "/tmp/tiny-lora", "tiny-llama"), ("json-adapter", "/tmp/tiny-lora", "tiny-alias"),
        ("json-badbase", "/tmp/tiny-lora", "tiny-llama")]
    assert [(c.id, c.root) for c in TWO_MODELS] == [("tiny-llama", "/tmp/tiny-llama"), ("qwen-7b", "/models/qwen-7b")]
    assert [(c.id, c.root) for c in NO_ROOTS] == [("tiny-llama", None), ("tiny-alias", None)]


# ----------------------------------------------------------------- card_name

@pytest.mark.parametrize("served, expected", [
    pytest.param(card("b1_served_name_v1_models", "tiny-llama"), "tiny-llama", id="base-by-served-name"),
    pytest.param(card("a_default_v1_models", "/tmp/tiny-llama"), "tiny-llama", id="base-by-its-path"),
    pytest.param(card("c1_lora_v1_models", "my-adapter"), "my-adapter (LoRA on tiny-llama)", id="lora"),
    pytest.param(card("c0_lora_default_name_v1_models", "my-adapter"), "my-adapter (LoRA on tiny-llama)",
                 id="lora-on-a-path"),
    pytest.param(card("c2_lora_multi_v1_models", "json-adapter"), "json-adapter (LoRA on tiny-alias)",
                 id="lora-on-an-alias"),
    pytest.param(card("b1_served_name_v1_models", "tiny\x07-llama\x00\n8b\t"), "tiny-llama 8b",
                 id="control-characters-removed-whitespace-collapsed"),
    pytest.param(card("b1_served_name_v1_models", "\u202egpt\u2066-4o\u2069\u200b"), "gpt-4o",
                 id="bidi-and-zero-width-removed"),
    pytest.param(card("b1_served_name_v1_models", "\u200b\u2060\u202e"), "vLLM model " + sha8("\u200b\u2060\u202e"),
                 id="blank-after-cleaning-named-by-digest"),
    pytest.param(card("b1_served_name_v1_models", "\u2060"), "vLLM model " + sha8("\u2060"),
                 id="another-blank-id-another-digest"),
    pytest.param(card("b1_served_name_v1_models", U), f"vLLM model {U}", id="bare-uuid-id-is-never-a-name"),
    pytest.param(card("c1_lora_v1_models", "\u200b", parent="tiny-llama"),
                 f"vLLM model {sha8(chr(0x200b))} (LoRA on tiny-llama)", id="lora-blank-after-cleaning"),
    pytest.param(card("c1_lora_v1_models", "my-lora", parent="\u200b"), "my-lora (LoRA on ?)",
                 id="lora-base-blank-after-cleaning"),
    pytest.param(card("b1_served_name_v1_models", "x" * 500), "x" * 199 + "…", id="capped-at-200"),
    pytest.param(card("c1_lora_v1_models", "a" * 300, parent="b" * 100),
                 "a" * 107 + "… (LoRA on " + "b" * 79 + "…)", id="lora-capped: base-80, adapter-the-rest"),
])
def test_card_name(served, expected):
    name = served_models.card_name(served)
    assert name == expected
    assert len(name) <= names.MAX_NAME_CHARS and names.is_usable_name(name)


def test_card_names_of_distinct_blank_ids_are_distinct():
    served = cards("b1_served_name_v1_models", {"id": "\u200b"}, {"id": "\u200b\u200b"}, {"id": "\u2060"})
    assert len({served_models.card_name(c) for c in served}) == 4


# ----------------------------------------------------------------- match_row

@pytest.mark.parametrize("served, model, expected, how", [
    # 1. served_model_name equals a served id (before model_id)
    pytest.param(B2, row(served="tiny-alias", model_id="tiny-llama"), "tiny-alias", "served_model_name",
                 id="served_model_name-first"),
    # 2. else model_id equals a served id, ...
    pytest.param(B2, row(model_id="tiny-alias"), "tiny-alias", "model_id", id="model_id"),
    pytest.param(B2, row(served="gone", model_id="tiny-alias"), "tiny-alias", "model_id",
                 id="model_id-when-served_model_name-is-not-served"),
    pytest.param(B1, row(model_id="  tiny-llama\t"), "tiny-llama", "model_id", id="own-ids-are-trimmed"),
    # ... or the root (model path) of one
    pytest.param(B1, row(model_id="/tmp/tiny-llama"), "tiny-llama", "model_id = root", id="model_id-is-the-root"),
    pytest.param(B2, row(model_id="/tmp/tiny-llama"), "tiny-llama", "model_id = root",
                 id="aliases-sharing-a-root-pick-the-first"),
    pytest.param(C2, row(model_id="/tmp/tiny-llama"), "tiny-llama", "model_id = root",
                 id="the-base-not-its-adapters"),
    pytest.param(C1, row(model_id="/tmp/tiny-lora"), "my-adapter", "model_id = root",
                 id="the-one-adapter-of-that-path"),
    pytest.param(C2, row(model_id="/tmp/tiny-lora"), None,
                 "its model_id is the path of several served adapters (my-adapter, json-adapter, json-badbase): "
                 "use --map", id="several-adapters-sharing-a-root-use-map"),
    # a row whose own id the server does not serve is never renamed after another model
    pytest.param(B1, row(model_id="gpt-4o"), None,
                 "the server does not serve its model_id 'gpt-4o' (it serves tiny-llama); "
                 "not renamed after another model", id="unserved-model_id-even-with-one-base-model"),
    pytest.param(TWO_MODELS, row(served="llama-70b", model_id="/models/llama-70b"), None,
                 "the server does not serve its served_model_name 'llama-70b' / model_id '/models/llama-70b' "
                 "(it serves tiny-llama, qwen-7b); not renamed after another model", id="unserved-both-ids"),
    # 3. only for a row with neither: the server's only base model
    pytest.param(B1, row(), "tiny-llama", "the server's only base model", id="only-base-model"),
    pytest.param(B1, row(model_id=" ", served=""), "tiny-llama", "the server's only base model",
                 id="blank-own-ids-are-none"),
    pytest.param(B2, row(), "tiny-llama", "the server's only base model", id="aliases-count-as-one-model"),
    pytest.param(C1, row(), "tiny-llama", "the server's only base model", id="adapters-are-not-base-models"),
    pytest.param(TWO_MODELS, row(), None,
                 "it has no model_id or served_model_name, and the server serves 2 base models "
                 "(cannot tell which): use --map", id="several-base-models-not-guessed"),
    pytest.param(NO_ROOTS, row(), None,
                 "it has no model_id or served_model_name, and the server serves 2 base models "
                 "(cannot tell which): use --map", id="ids-without-a-root-are-distinct-models"),
])
def test_match_row(served, model, expected, how):
    found, said = matching.match_row(model, served)
    assert (found.id if found else None, said) == (expected, how)


# ----------------------------------------------------------------- make_plan: --map

@pytest.mark.parametrize("maps, results, says", [
    pytest.param(((B, "tiny-llama"),), [answer(B1)], f"--map {B}: no llm_models row has this id", id="unknown-row"),
    pytest.param(((A, "nope"),), [answer(B1)],
                 f"--map {A}='nope': no queried endpoint serves that id (served: tiny-llama)", id="unserved-id"),
    pytest.param(((A, "tiny-llama"),), [failure()],
                 f"--map {A}='tiny-llama': no queried endpoint serves that id (failed: {URL})", id="endpoint-failed"),
    pytest.param(((A, "tiny-llama"),), [],
                 f"--map {A}='tiny-llama': no queried endpoint serves that id "
                 "(no endpoint queried: add --endpoint URL)", id="nothing-queried"),
    pytest.param(((A, "x" * 100),), [answer([vllm.Card(f"m{n:02}", f"/m/{n}", None) for n in range(12)]),
                                     failure(), failure(OTHER)],
                 f"--map {A}={'x' * 79 + '…'!r}: no queried endpoint serves that id "
                 "(served: m00, m01, m02, m03, m04, m05, m06, m07, m08, m09 and 2 more) "
                 f"(failed: {URL}, {OTHER})", id="long-id-many-served-several-failed"),
])
def test_map_refusals_are_usage_errors(maps, results, says):
    with pytest.raises(UserError) as refused:
        matching.make_plan([row(A)], results, Options(maps=maps), COLUMNS)
    assert refused.value.exit_code == errors.USAGE == 2
    assert str(refused.value) == says


def test_map_names_a_row_after_the_served_model_it_names_overriding_the_rules():
    plan = matching.make_plan([row(A, model_id="tiny-llama")], [answer(B2)], Options(maps=((A, "tiny-alias"),)),
                              COLUMNS)
    assert [(c.model, c.new_name, c.served_id, c.matched_by, c.filled) for c in plan.changes] == \
        [(A, "tiny-llama", "tiny-alias", "--map", {"served_model_name": "tiny-alias"})]  # aliases: the first name
    assert plan.not_registered == [] and plan.unmatched == [] and plan.unresolved == []


def test_map_leaves_a_human_name_alone():
    human = row(A, name="Our Llama", replaceable=False, placeholder=False)
    plan = matching.make_plan([human], [answer(B1)], Options(maps=((A, "tiny-llama"),)), COLUMNS)
    assert plan.changes == []
    assert plan.left_alone == [f"{A}: has the human name 'Our Llama'; --map ignored "
                               "(pgmodelnames never replaces a human name; use rename)"]
    assert plan.not_registered == []  # the mapped model is claimed all the same


# ----------------------------------------------------------------- make_plan: the rules per row

@pytest.mark.parametrize("model, columns, expected", [
    pytest.param(row(A, model_id="/tmp/tiny-llama"), COLUMNS,
                 [(A, None, "tiny-llama", "model_id = root", {"served_model_name": "tiny-llama"})],
                 id="matched-row-renamed-empty-id-columns-filled"),
    pytest.param(row(A, base_url=URL + "/v1/"), COLUMNS,
                 [(A, None, "tiny-llama", "the server's only base model",
                   {"model_id": "tiny-llama", "served_model_name": "tiny-llama"})],
                 id="base_url-in-a-pasted-form-is-that-endpoint"),
    pytest.param(row(A, model_id="tiny-llama"), {}, [(A, None, "tiny-llama", "model_id", {})],
                 id="no-fillable-columns"),
    pytest.param(row(A, name="tiny-llama", model_id="tiny-llama", served="tiny-llama", placeholder=False),
                 COLUMNS, [], id="already-named-so-nothing-to-do"),
    pytest.param(row(A, name="tiny-llama", placeholder=False), COLUMNS,
                 [(A, "tiny-llama", "tiny-llama", "the server's only base model",
                   {"model_id": "tiny-llama", "served_model_name": "tiny-llama"})],
                 id="already-named-but-empty-id-columns-filled"),
    pytest.param(row(A, name="Our Llama", replaceable=False, placeholder=False), COLUMNS, [],
                 id="human-name-never-touched"),
    pytest.param(row(A, covered=False), COLUMNS, [], id="uncovered-provider-never-touched"),
    pytest.param(row(A, base_url=OTHER), COLUMNS, [], id="row-of-another-endpoint"),
])
def test_plan_per_row(model, columns, expected):
    plan = matching.make_plan([model], [answer(B1)], Options(), columns)
    assert [(c.model, c.old_name, c.new_name, c.matched_by, c.filled) for c in plan.changes] == expected
    assert plan.unmatched == []


def test_an_adapter_match_fills_base_model_with_its_parent():
    plan = matching.make_plan([row(A, model_id="/tmp/tiny-lora")], [answer(C1)], Options(), COLUMNS)
    assert [(c.new_name, c.filled) for c in plan.changes] == [
        ("my-adapter (LoRA on tiny-llama)", {"served_model_name": "my-adapter", "base_model": "tiny-llama"})]


# ----------------------------------------------------------------- make_plan: served models no row claims

C2_NAMES = {"tiny-llama": "tiny-llama", "my-adapter": "my-adapter (LoRA on tiny-llama)",
            "json-adapter": "json-adapter (LoRA on tiny-llama)", "json-badbase": "json-badbase (LoRA on tiny-llama)"}


@pytest.mark.parametrize("rows, register_new, listed", [
    pytest.param([], False, [("tiny-llama", ["tiny-alias"]), ("my-adapter", []), ("json-adapter", []),
                             ("json-badbase", [])], id="each-alias-group-once"),
    pytest.param([row(A, model_id="tiny-alias")], False, [("my-adapter", []), ("json-adapter", []),
                                                         ("json-badbase", [])],
                 id="a-matched-row-claims-every-alias"),
    pytest.param([row(A, name="Ours", model_id="tiny-llama", replaceable=False, placeholder=False)], False,
                 [("my-adapter", []), ("json-adapter", []), ("json-badbase", [])],
                 id="a-human-named-row-claims-its-model-too"),
    pytest.param([row(A, model_id="/tmp/tiny-lora")], False,
                 [("tiny-llama", ["tiny-alias"]), ("my-adapter", []), ("json-adapter", []), ("json-badbase", [])],
                 id="an-unmatched-row-claims-nothing"),
    pytest.param([], True, [("tiny-llama", ["tiny-alias"]), ("my-adapter", []), ("json-adapter", []),
                            ("json-badbase", [])], id="register-new"),
])
def test_unclaimed_models_are_listed_once_per_alias_group(rows, register_new, listed):
    plan = matching.make_plan(rows, [answer(C2)], Options(register_new=register_new), COLUMNS)
    assert [(e["served_id"], e["aliases"]) for e in plan.not_registered] == listed
    # An adapter on an alias is named after the model's first served name (aliases rule).
    assert all(e["endpoint"] == URL and e["name"] == C2_NAMES[e["served_id"]] for e in plan.not_registered)
    registered = [c for c in plan.changes if c.registered]
    if not register_new:
        assert registered == []
        return
    assert [(c.served_id, c.new_name, c.matched_by, c.base_url, c.filled) for c in registered] == [
        ("tiny-llama", "tiny-llama", "registered", URL, {"model_id": "tiny-llama", "served_model_name": "tiny-llama"}),
        ("my-adapter", "my-adapter (LoRA on tiny-llama)", "registered", URL,
         {"model_id": "my-adapter", "served_model_name": "my-adapter", "base_model": "tiny-llama"}),
        ("json-adapter", "json-adapter (LoRA on tiny-llama)", "registered", URL,
         {"model_id": "json-adapter", "served_model_name": "json-adapter", "base_model": "tiny-alias"}),
        ("json-badbase", "json-badbase (LoRA on tiny-llama)", "registered", URL,
         {"model_id": "json-badbase", "served_model_name": "json-badbase", "base_model": "tiny-llama"}),
    ]
    assert {c.model for c in registered} == {None}  # "(new)": the id is chosen when the row is inserted


def test_ids_without_a_root_are_each_their_own_model():
    plan = matching.make_plan([row(A, model_id="tiny-llama")], [answer(NO_ROOTS)], Options(), COLUMNS)
    assert [c.served_id for c in plan.changes] == ["tiny-llama"]
    assert [(e["served_id"], e["aliases"]) for e in plan.not_registered] == [("tiny-alias", [])]


# ----------------------------------------------------------------- make_plan: placeholders left unresolved

@pytest.mark.parametrize("model, results, reason, kind, candidates, suggested", [
    pytest.param(row(A), [answer(TWO_MODELS), answer(B2, OTHER)],
                 "it has no model_id or served_model_name, and the server serves 2 base models "
                 "(cannot tell which): use --map", "not_matched", ["tiny-llama", "qwen-7b", "tiny-llama"], None,
                 id="not-guessed-its-endpoint-first-then-the-others"),
    pytest.param(row(A, base_url=""), [answer(B2), answer(TWO_MODELS, OTHER)],
                 "no endpoint known: its base_url is empty", "no_endpoint", ["tiny-llama", "tiny-llama", "qwen-7b"],
                 None, id="no-base_url-candidates-of-every-endpoint"),
    pytest.param(row(A, base_url="ftp://gpu1/v1"), [answer(B1)],
                 "its base_url 'ftp://gpu1/v1' is not a usable http(s) URL", "bad_url", ["tiny-llama"], "tiny-llama",
                 id="unusable-base_url-one-likeliest"),
    pytest.param(row(A), [failure()], f"its endpoint {URL} failed: connection refused: nothing listens on that "
                 "host and port", "endpoint_failed", [], None, id="endpoint-failed"),
    pytest.param(row(A, base_url=OTHER), [answer(B1)], "its endpoint was not queried", "not_queried",
                 ["tiny-llama"], "tiny-llama", id="endpoint-not-queried"),
])
def test_unresolved_placeholders_say_why_with_their_candidates(model, results, reason, kind, candidates, suggested):
    plan = matching.make_plan([model], results, Options(), COLUMNS)
    assert [c for c in plan.changes if not c.registered] == []
    assert [(u["model"], u["reason"], u["kind"], [c["served_id"] for c in u["candidates"]], u["suggested"])
            for u in plan.unresolved] == [(A, reason, kind, candidates, suggested)]
    assert plan.unresolved[0]["needs_a_person"] is (kind != "endpoint_failed")


def test_only_placeholders_are_listed_unresolved():
    named = row(A, name="qwen-7b", model_id="gone", placeholder=False)  # a machine name, not a placeholder
    plan = matching.make_plan([named], [answer(TWO_MODELS)], Options(), COLUMNS)
    assert plan.unresolved == []
    assert [(e["model"], e["reason"]) for e in plan.unmatched] == [
        (A, "the server does not serve its model_id 'gone' (it serves tiny-llama, qwen-7b); "
            "not renamed after another model")]


# ----------------------------------------------------------------- what can be stored

def test_too_long_and_nul_ids_are_set_aside_not_truncated():
    long_id = "x" * 10_000
    served = cards("b1_served_name_v1_models", {"id": long_id}, {"id": "nul\x00id"}, {"id": "tiny-llama"})
    assert [c.id for c in served] == ["tiny-llama", long_id, "nul\x00id"]  # the repeated id is listed once
    result, notices = served_models.screen(answer(served))
    assert result.ok and [card.id for card in result.cards] == ["tiny-llama"]
    assert len(notices) == 2
    assert notices[0].startswith("skipped served model 2 (")
    assert "10000 characters" in notices[0] and "not stored truncated" in notices[0]
    assert notices[1].startswith("skipped served model 3 (") and "NUL" in notices[1]


def test_only_unstorable_ids_is_a_failure():
    result, notices = served_models.screen(answer(cards("b1_served_name_v1_models", {"id": "y" * 3000})[1:]))
    assert not result.ok and "no model that can be stored" in result.error
    assert result.cards == [] and len(notices) == 1


@pytest.mark.parametrize("extra, kept", [
    pytest.param({"id": "lora", "parent": "p" * 3000}, ["tiny-llama"], id="adapter-of-an-unstorable-base-set-aside"),
    pytest.param({"id": "big", "root": "r" * 3000}, ["tiny-llama", "big"], id="unstorable-root-only-forgotten"),
])
def test_screen_parents_and_roots(extra, kept):
    result, notices = served_models.screen(answer(cards("b1_served_name_v1_models", extra)))
    assert [c.id for c in result.cards] == kept
    assert len(notices) == 2 - len(kept)
    if "root" in extra:
        assert result.cards[1].root is None and result.cards[1].owned_by == "vllm"


def test_screen_passes_a_failed_answer_through():
    failed = failure()
    assert served_models.screen(failed) == (failed, [])


# ----------------------------------------------------------------- make_plan: every explicit choice counts

def test_every_map_is_applied_also_after_one_on_a_human_name():
    human = row(A, name="Our Llama", replaceable=False, placeholder=False)
    waiting, other = row(B, base_url=""), row(U, base_url="")
    plan = matching.make_plan([human, waiting, other], [answer(C1)],
                              Options(maps=((A, "tiny-llama"), (B, "my-adapter"))), COLUMNS)
    assert [(c.model, c.new_name, c.matched_by) for c in plan.changes] == [
        (B, "my-adapter (LoRA on tiny-llama)", "--map")]
    assert [text.split(":")[0] for text in plan.left_alone] == [A]
    # The third placeholder sees both models taken, by the rows --map named (the human row keeps its name).
    [entry] = plan.unresolved
    assert [(c["served_id"], c["claimed_by"]) for c in entry["candidates"]] == [
        ("tiny-llama", [{"model": A, "name": "Our Llama"}]),
        ("my-adapter", [{"model": B, "name": "my-adapter (LoRA on tiny-llama)"}])]


def test_every_typed_name_is_applied_also_after_one_on_a_human_name():
    human = row(A, name="Our Llama", replaceable=False, placeholder=False)
    waiting = row(B, name="Unknown vllm model bbbbbbbb", base_url="")
    plan = matching.make_plan([human, waiting], [], Options(names=((A, "Theirs"), (B, "Llama 3.1 8B"))), COLUMNS)
    assert [(c.model, c.old_name, c.new_name, c.matched_by, c.human, c.endpoint, c.served_id)
            for c in plan.changes] == [(B, "Unknown vllm model bbbbbbbb", "Llama 3.1 8B", "typed name", True, "", "")]
    assert plan.left_alone == [f"{A}: has the human name 'Our Llama'; the typed name is ignored"]
    with pytest.raises(UserError) as refused:
        matching.make_plan([waiting], [], Options(names=((A, "x"),)), COLUMNS)
    assert (str(refused.value), refused.value.exit_code) == (f"--assign: no llm_models row has the id {A}", 2)
    with pytest.raises(UserError) as refused:
        matching.make_plan([waiting], [], Options(names=((B, " "),)), COLUMNS)
    assert refused.value.exit_code == 2 and str(refused.value).startswith(f"--assign {B}: the new name is blank")


def test_rows_of_every_endpoint_are_matched_whatever_their_order():
    """A row of another endpoint, a human name, a row not matched, an uncovered one: none stops the others."""
    rows = [row(A, base_url=OTHER, model_id="qwen"),
            row("cccccccc-0000-4000-8000-00000000000c", name="Ours", replaceable=False, placeholder=False),
            row("dddddddd-0000-4000-8000-00000000000d", model_id="gone"),
            row("eeeeeeee-0000-4000-8000-00000000000e", covered=False),
            row(B, model_id="tiny-llama")]
    qwen = card("b1_served_name_v1_models", "qwen", root="/m/qwen")
    plan = matching.make_plan(rows, [answer(B1), answer([qwen], OTHER)], Options(), COLUMNS)
    assert sorted((c.model, c.new_name) for c in plan.changes) == [(A, "qwen"), (B, "tiny-llama")]
    gone = "dddddddd-0000-4000-8000-00000000000d"
    assert plan.unmatched == [{
        "model": gone, "name": None, "endpoint": URL,
        "reason": ("the server does not serve its model_id 'gone' (it serves tiny-llama); "
                   "not renamed after another model"),
        "next_steps": [f"served under another id? pgmodelnames backfill --map {gone}=SERVED_ID"]}]
    # The uncovered placeholder is never listed; the one not matched is, once.
    assert [e["model"] for e in plan.unresolved] == [gone]


def test_a_map_claims_the_model_for_the_row_it_names():
    """The candidates of the other placeholders show which row a --map gave the model to, by its new name."""
    plan = matching.make_plan([row(A, base_url=""), row(B, base_url="")], [answer(C1)],
                              Options(maps=((A, "my-adapter"),)), COLUMNS)
    [entry] = plan.unresolved
    adapter = next(c for c in entry["candidates"] if c["served_id"] == "my-adapter")
    assert adapter["claimed_by"] == [{"model": A, "name": "my-adapter (LoRA on tiny-llama)"}]
    assert entry["suggested"] == "tiny-llama"  # the one left


def test_an_assign_pick_says_so_and_uses_the_endpoint_chosen():
    plan = matching.make_plan([row(A, base_url="")], [answer(B1), answer(B1, OTHER)],
                              Options(maps=((A, "tiny-llama", OTHER),)), COLUMNS)
    [change] = plan.changes
    assert (change.endpoint, change.matched_by, change.filled) == (
        OTHER, "--assign", {"model_id": "tiny-llama", "served_model_name": "tiny-llama"})


def test_rows_without_an_endpoint_that_name_a_model_claim_it_by_model_id_too():
    registered = row(A, name="Ours", base_url=None, model_id="my-adapter", replaceable=False, placeholder=False)
    plan = matching.make_plan([registered, row(B, base_url="")], [answer(C1)], Options(), COLUMNS)
    [entry] = plan.unresolved
    adapter = next(c for c in entry["candidates"] if c["served_id"] == "my-adapter")
    assert adapter["claimed_by"] == [{"model": A, "name": "Ours"}]
    assert [e["served_id"] for e in plan.not_registered] == ["tiny-llama"]


def test_register_new_fills_base_url_as_written_and_names_the_new_rows_in_the_candidates():
    written = vllm.Result(vllm.Endpoint(URL, named=True, raw=URL + "/v1"), cards=B1)
    plan = matching.make_plan([row(A, base_url="")], [written], Options(register_new=True), COLUMNS)
    [change] = plan.changes
    assert (change.endpoint, change.base_url) == (URL, URL + "/v1")
    [entry] = plan.unresolved
    assert entry["candidates"][0]["claimed_by"] == [{"model": None, "name": "tiny-llama"}]
    assert entry["suggested"] is None


def test_a_row_given_a_typed_name_is_not_also_renamed_by_the_rules():
    """Its endpoint serves one base model, which the rules would name it after: the person's name wins."""
    plan = matching.make_plan([row(A)], [answer(B1)], Options(names=((A, "Llama 3.1 8B"),)), COLUMNS)
    assert [(c.model, c.new_name, c.matched_by) for c in plan.changes] == [(A, "Llama 3.1 8B", "typed name")]


def test_an_alias_listed_after_another_model_is_still_one_model():
    """tiny-alias comes after an adapter: it is tiny-llama's second name, not a model of its own."""
    listed = cards("c1_lora_v1_models", {"id": "tiny-alias", "root": "/tmp/tiny-llama"})
    assert [c.id for c in listed] == ["tiny-llama", "my-adapter", "tiny-alias"]
    for register_new in (False, True):
        plan = matching.make_plan([], [answer(listed)], Options(register_new=register_new), COLUMNS)
        assert [(e["served_id"], e["aliases"]) for e in plan.not_registered] == [
            ("tiny-llama", ["tiny-alias"]), ("my-adapter", [])]
    assert [c.new_name for c in plan.changes] == ["tiny-llama", "my-adapter (LoRA on tiny-llama)"]
