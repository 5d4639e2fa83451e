"""The pure rules behind the placeholders a person names: aliases, claims,
candidates, the likeliest one, the printed commands, other servers' cards.
No database and no HTTP: the bodies are the real vLLM 0.32 recordings
(parsed as the client parses them) or, for other servers, literal cards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pgmodelnames import candidates, matching, served_models, vllm
from pgmodelnames.matching import Column, Options, Row

RECORDINGS = Path(__file__).parent / "fixtures" / "vllm"
PLACEHOLDER = "fdab6388-2c1e-4c5a-9f0e-6b1d2a7c9e41"
OTHER = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"
COLUMNS = {name: Column(name, "text", True, False)
           for name in ("name", "provider", "base_url", "model_id", "served_model_name")}


def cards(recording: str) -> list[vllm.Card]:
    return vllm.parse_models((RECORDINGS / f"{recording}.json").read_bytes())


def answered(url: str, found: list[vllm.Card], named: bool = False) -> vllm.Result:
    return vllm.Result(vllm.Endpoint(url, named=named, raw=url + "/v1"), cards=found)


def row(model: str, name: str | None = None, base_url: str | None = None, model_id: str | None = None,
        served: str | None = None, placeholder: bool = False, recorded: str | None = None) -> Row:
    name = name if name is not None else (f"Unknown vllm model {model[:8]}" if placeholder else None)
    # placeholder_name as pgmodelnames.placeholder_name() computes it for provider vllm (models.sql reads it)
    return Row(model, name, "vllm", True, base_url, model_id, served, None, True, placeholder or name is None,
               recorded, f"Unknown vllm model {model[:8]}")


def placeholder(model: str = PLACEHOLDER) -> Row:
    return row(model, placeholder=True, base_url="")


# ----------------------------------------------------------------- aliases

def test_aliases_of_one_model_get_its_first_served_name():
    listed = cards("b2_two_names_v1_models")  # --served-model-name tiny-llama tiny-alias: one root
    alias = next(card for card in listed if card.id == "tiny-alias")
    assert served_models.card_name(alias, listed) == "tiny-llama"
    assert served_models.card_name(alias) == "tiny-alias"  # without the list there is nothing to group by
    rows = [row("11111111-1111-4111-8111-111111111111", base_url="http://gpu1:8000", served="tiny-alias"),
            row("22222222-2222-4222-8222-222222222222", base_url="http://gpu1:8000", served="tiny-llama")]
    plan = matching.make_plan(rows, [answered("http://gpu1:8000", listed)], Options(), COLUMNS)
    assert {change.model[:2]: change.new_name for change in plan.changes} == {"11": "tiny-llama", "22": "tiny-llama"}
    assert plan.not_registered == []


def test_an_adapter_on_an_alias_names_the_first_served_name():
    listed = cards("c2_lora_multi_v1_models")
    adapter = next(card for card in listed if card.id == "json-adapter")
    assert adapter.parent == "tiny-alias"
    assert served_models.card_name(adapter, listed) == "json-adapter (LoRA on tiny-llama)"


def test_map_to_an_alias_claims_the_whole_model():
    """--map to the second served name: the row gets the first, and neither
    name is left 'served but not registered' (--register-new adds no twin)."""
    listed = cards("b2_two_names_v1_models")
    options = Options(maps=((PLACEHOLDER, "tiny-alias"),), register_new=True)
    plan = matching.make_plan([placeholder()], [answered("http://gpu1:8000", listed, named=True)], options, COLUMNS)
    [change] = plan.changes
    assert (change.new_name, change.served_id, change.matched_by) == ("tiny-llama", "tiny-alias", "--map")
    assert change.filled == {"model_id": "tiny-alias", "served_model_name": "tiny-alias",
                             "base_url": "http://gpu1:8000/v1"}  # where it is served, as written
    assert plan.not_registered == [] and plan.unresolved == []


def test_a_row_that_names_a_served_model_without_an_endpoint_covers_it():
    """An existing registration without a base_url: --register-new must not add a second row."""
    listed = cards("b1_served_name_v1_models")
    registered = row("33333333-3333-4333-8333-333333333333", name="Our Llama", served="tiny-llama")
    plan = matching.make_plan([registered], [answered("http://gpu1:8000", listed, named=True)],
                              Options(register_new=True), COLUMNS)
    assert plan.changes == [] and plan.not_registered == []


def test_a_recorded_endpoint_stands_in_for_an_empty_base_url():
    """A row named by --map before base_url was recorded (or a table without base_url): its
    machine name's endpoint keeps it matched, and current."""
    listed = cards("b2_two_names_v1_models")
    mapped = row(PLACEHOLDER, name="tiny-alias", base_url="", served="tiny-alias", recorded="http://gpu1:8000")
    assert mapped.endpoint_url == "http://gpu1:8000"
    plan = matching.make_plan([mapped], [answered("http://gpu1:8000", listed)], Options(), COLUMNS)
    [change] = plan.changes
    assert change.new_name == "tiny-llama"
    assert change.filled == {"model_id": "tiny-alias", "base_url": "http://gpu1:8000/v1"}


# ----------------------------------------------------------------- candidates

def test_candidates_list_every_served_model_unclaimed_first_with_adapters_and_their_base():
    one = cards("c1_lora_v1_models")  # tiny-llama + my-adapter
    two = cards("b2_two_names_v1_models")  # tiny-llama (alias tiny-alias)
    rows = [placeholder(), row("44444444-4444-4444-8444-444444444444", base_url="http://gpu1:8000",
                               served="tiny-llama", name="tiny-llama")]
    plan = matching.make_plan(rows, [answered("http://gpu1:8000", one), answered("http://gpu2:8000", two)],
                              Options(), COLUMNS)
    [entry] = plan.unresolved
    assert entry["kind"] == "no_endpoint" and entry["needs_a_person"]
    shown = [(c["number"], c["served_id"], c["endpoint"], c["kind"], c["base"], c["aliases"], bool(c["claimed_by"]))
             for c in entry["candidates"]]
    assert shown == [
        (1, "my-adapter", "http://gpu1:8000", "adapter", "tiny-llama", [], False),
        (2, "tiny-llama", "http://gpu2:8000", "base model", None, ["tiny-alias"], False),
        (3, "tiny-llama", "http://gpu1:8000", "base model", None, [], True),
    ]
    assert entry["candidates"][2]["claimed_by"] == [{"model": "44444444-4444-4444-8444-444444444444",
                                                     "name": "tiny-llama"}]
    assert entry["suggested"] is None  # two models no row claims: the person chooses
    assert entry["commands"]["map"] == f"pgmodelnames backfill --map {PLACEHOLDER}=SERVED_ID"
    assert entry["commands"]["rename"] == f'pgmodelnames rename {PLACEHOLDER} "NAME"'


def test_the_likeliest_candidate_only_where_there_is_exactly_one():
    listed = cards("b2_two_names_v1_models")
    plan = matching.make_plan([placeholder()], [answered("http://gpu1:8000", listed, named=True)],
                              Options(), COLUMNS)
    [entry] = plan.unresolved
    assert entry["suggested"] == "tiny-llama"  # one model (two names), no row yet
    # The user named the server: the command repeats it, as typed.
    assert entry["commands"]["map"] == \
        f"pgmodelnames backfill --map {PLACEHOLDER}=tiny-llama --endpoint http://gpu1:8000/v1"
    assert entry["commands"]["assign"] == "pgmodelnames backfill --assign --endpoint http://gpu1:8000/v1"


def test_no_server_answered_says_which_option_to_add():
    plan = matching.make_plan([placeholder()], [], Options(), COLUMNS)
    [entry] = plan.unresolved
    assert entry["candidates"] == [] and entry["suggested"] is None
    assert entry["commands"]["map"] == \
        f"pgmodelnames backfill --map {PLACEHOLDER}=SERVED_ID --endpoint http://VLLM_HOST:8000"


def test_a_placeholder_whose_endpoint_failed_waits_for_it():
    failed = vllm.Result(vllm.Endpoint("http://gpu2:8000", named=False), error="HTTP 401 Unauthorized: ...")
    waiting = row(PLACEHOLDER, placeholder=True, base_url="http://gpu2:8000")
    [entry] = matching.make_plan([waiting], [failed], Options(), COLUMNS).unresolved
    assert entry["kind"] == "endpoint_failed" and not entry["needs_a_person"]


def test_evidence_orders_the_placeholders_most_messages_first():
    plan = matching.make_plan([placeholder(), placeholder(OTHER)], [], Options(), COLUMNS)
    candidates.attach_evidence(plan.unresolved, {PLACEHOLDER: {"messages": 3}, OTHER: {"messages": 40}})
    assert [entry["model"] for entry in plan.unresolved] == [OTHER, PLACEHOLDER]


def test_registered_rows_get_no_uuid_in_the_plan():
    """The UUID is made when the row is inserted: a dry run shows '(new)', never an id the run will not use."""
    plan = matching.make_plan([], [answered("http://gpu1:8000", cards("c1_lora_v1_models"))],
                              Options(register_new=True), COLUMNS)
    assert [(change.model, change.new_name) for change in plan.changes] == [
        (None, "tiny-llama"), (None, "my-adapter (LoRA on tiny-llama)")]


def test_lists_are_cut_with_the_count_of_the_rest():
    many = [vllm.Card(f"model-{n}", f"/m/{n}", None) for n in range(8)]
    _, why = matching.match_row(row(OTHER, base_url="http://gpu1:8000", model_id="gone"), many)
    assert "model-0, model-1, model-2, model-3, model-4 and 3 more" in why
    assert served_models.listing(["a", "b"]) == "a, b"


def test_a_row_whose_model_went_away_gets_the_two_ways_out():
    gone = row(OTHER, name="old-model", base_url="http://gpu1:8000", served="old-model")
    plan = matching.make_plan([gone], [answered("http://gpu1:8000", cards("b1_served_name_v1_models"))],
                              Options(), COLUMNS)
    [entry] = plan.unmatched
    assert entry["next_steps"] == [
        f"served under another id? pgmodelnames backfill --map {OTHER}=SERVED_ID",
        f"retired? keep its name (it is then never listed again): pgmodelnames rename {OTHER} old-model"]


# ----------------------------------------------------------------- other OpenAI-compatible servers

def body(*data: dict, **top) -> bytes:
    return json.dumps({"object": "list", "data": list(data), **top}).encode()


def test_cards_with_only_an_id():
    """LiteLLM, llama.cpp, Ollama send little beyond the id: no root, no parent."""
    listed = vllm.parse_models(body({"id": "qwen2.5:7b", "object": "model", "owned_by": "library"},
                                    {"id": "llama3.1:8b"}))
    assert [(c.id, c.root, c.parent, c.reference) for c in listed] == [
        ("qwen2.5:7b", None, None, None), ("llama3.1:8b", None, None, None)]  # an owner is no model reference
    assert [served_models.card_name(c, listed) for c in listed] == ["qwen2.5:7b", "llama3.1:8b"]  # no aliases guessed
    nameless = row(OTHER, base_url="http://ollama:11434")
    assert matching.match_row(nameless, listed)[0] is None  # two models: never guessed
    by_id = row(OTHER, base_url="http://ollama:11434", model_id="llama3.1:8b")
    assert matching.match_row(by_id, listed)[0].id == "llama3.1:8b"
    plan = matching.make_plan([placeholder()], [answered("http://ollama:11434", listed)], Options(), COLUMNS)
    assert [c["served_id"] for c in plan.unresolved[0]["candidates"]] == ["qwen2.5:7b", "llama3.1:8b"]


def test_sglang_root_is_the_served_name():
    """SGLang: root = the served name (not a weights path); an adapter's parent is the base's name."""
    listed = vllm.parse_models(body(
        {"id": "qwen-chat", "object": "model", "owned_by": "sglang", "root": "qwen-chat", "max_model_len": 32768},
        {"id": "sql-lora", "object": "model", "owned_by": "sglang", "root": "/loras/sql", "parent": "qwen-chat"}))
    assert [served_models.card_name(c, listed) for c in listed] == ["qwen-chat", "sql-lora (LoRA on qwen-chat)"]
    assert matching.match_row(row(OTHER, base_url="http://s:30000"), listed)[0].id == "qwen-chat"
    assert matching.match_row(row(OTHER, base_url="http://s:30000", model_id="qwen-chat"), listed)[1] == "model_id"
    candidates = matching.make_plan([placeholder()], [answered("http://s:30000", listed)], Options(),
                                    COLUMNS).unresolved[0]["candidates"]
    assert [(c["served_id"], c["aliases"], c["base"]) for c in candidates] == [
        ("qwen-chat", [], None), ("sql-lora", [], "qwen-chat")]


def test_tgi_puts_the_model_id_in_owned_by():
    # TGI: one card, id and owned_by both its --model-id (a hub id or a local path).
    [card] = vllm.parse_models(body({"id": "/data/llama", "object": "model", "created": 0,
                                     "owned_by": "/data/llama"}))
    assert card.reference == "/data/llama" and card.root is None
    assert served_models.card_name(card, [card]) == "/data/llama"
    assert matching.match_row(row(OTHER, base_url="http://tgi:8080"), [card])[0] is card
    # A card whose owned_by names a model other than its id is matched through it, as vLLM's root.
    [other] = vllm.parse_models(body({"id": "tgi", "object": "model", "created": 0,
                                      "owned_by": "meta-llama/Llama-3.1-8B-Instruct"}))
    app_row = row(OTHER, base_url="http://tgi:8080", model_id="meta-llama/Llama-3.1-8B-Instruct")
    assert matching.match_row(app_row, [other]) == (other, "model_id = root")
    # ...but never groups cards as aliases (only a real root does).
    two = [other, vllm.Card("tgi-2", None, None, "meta-llama/Llama-3.1-8B-Instruct")]
    assert served_models.card_name(two[1], two) == "tgi-2"


def test_older_tgi_answers_with_the_card_itself():
    [card] = vllm.parse_models(json.dumps({"id": "bigscience/bloom-560m", "object": "model", "created": 0,
                                           "owned_by": "bigscience/bloom-560m"}).encode())
    assert card.id == "bigscience/bloom-560m"


@pytest.mark.parametrize("listed", [
    [vllm.Card("a", "a", None), vllm.Card("b", "b", None)],  # root == id (SGLang, vLLM without a served name)
    [vllm.Card("a", None, None), vllm.Card("b", None, None)],  # no root at all
])
def test_root_equal_to_id_or_missing_never_merges_two_models(listed):
    assert served_models.primary(listed[1], listed).id == "b"
    assert served_models.card_name(listed[1], listed) == "b"
    plan = matching.make_plan([], [answered("http://x:1", listed)], Options(), COLUMNS)
    assert [(e["served_id"], e["aliases"]) for e in plan.not_registered] == [("a", []), ("b", [])]


# ----------------------------------------------------------------- --assign answers

ENTRY = {"model": PLACEHOLDER, "provider": "vllm", "placeholder_name": f"Unknown vllm model {PLACEHOLDER[:8]}",
         "candidates": [{"number": 1, "served_id": "tiny-llama"}, {"number": 2, "served_id": "my-adapter"}]}


@pytest.mark.parametrize("typed, kind, detail", [
    ("2", "pick", "my-adapter"),
    (" 1 ", "pick", "tiny-llama"),
    ("s", "skip", None),
    ("Q", "quit", None),
    ("Llama 3.1 8B", "name", "Llama 3.1 8B"),
    ("  Qwen 2.5  ", "name", "Qwen 2.5"),
    ("3", "again", "no candidate 3: choose 1 to 2"),
    ("", "again", "type a number, a name"),
    ("Unknown vllm model fdab6388", "again", "placeholder name"),
    (PLACEHOLDER, "again", "bare UUID"),
    ("evil\u202ename", "again", "invisible or text-direction"),
])
def test_read_answer(typed, kind, detail):
    answer = candidates.read_answer(typed, ENTRY)
    assert answer.kind == kind
    if kind == "pick":
        assert answer.candidate["served_id"] == detail
    elif kind == "name":
        assert answer.name == detail
    elif kind == "again":
        assert detail in answer.problem


def test_typed_names_follow_the_rename_rules_in_the_plan_too():
    plan = matching.make_plan([placeholder()], [], Options(names=((PLACEHOLDER, " Llama 3.1 8B "),)), COLUMNS)
    [change] = plan.changes
    assert (change.new_name, change.human, change.matched_by) == ("Llama 3.1 8B", True, "typed name")
    assert plan.unresolved == []
    with pytest.raises(matching.UserError, match="placeholder name"):
        matching.make_plan([placeholder()], [], Options(names=((PLACEHOLDER, "Unknown vllm model fdab6388"),)),
                           COLUMNS)


def test_map_uses_the_rows_own_endpoint_then_a_named_one():
    """Several endpoints list the id: the row's own endpoint if it is one of them, else the first named."""
    found = answered("http://found:8000", cards("b1_served_name_v1_models"))
    named = answered("http://named:8000", cards("b1_served_name_v1_models"), named=True)
    results = [named, found]  # named endpoints come first, as backfill.discover orders them
    plan = matching.make_plan([placeholder()], results, Options(maps=((PLACEHOLDER, "tiny-llama"),)), COLUMNS)
    assert plan.changes[0].endpoint == "http://named:8000"
    own = row(PLACEHOLDER, placeholder=True, base_url="http://found:8000")
    plan = matching.make_plan([own], results, Options(maps=((PLACEHOLDER, "tiny-llama"),)), COLUMNS)
    assert plan.changes[0].endpoint == "http://found:8000"
    picked = Options(maps=((PLACEHOLDER, "tiny-llama", "http://found:8000"),))  # an --assign pick names its endpoint
    assert matching.make_plan([placeholder()], results, picked, COLUMNS).changes[0].endpoint == "http://found:8000"
