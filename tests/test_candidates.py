"""The pure rules behind the placeholders a person names: aliases, claims,
candidates, the likeliest one, the printed commands, other servers' cards.
No database and no HTTP: the bodies are the real vLLM 0.32 recordings
(parsed as the client parses them) or, for other servers, literal cards."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from pgmodelnames import candidates, matching, served_models, vllm
from pgmodelnames.matching import Column, Options, Row
from pgmodelnames.server_keys import ServerKey

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
    assert served_models.card_name(card, [card]) == "llama"
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


def test_candidates_after_an_alias_are_all_listed():
    """tiny-alias (the second name of tiny-llama) comes before the adapters in the list: it is
    folded into tiny-llama, and every model after it is still a candidate."""
    listed = cards("c2_lora_multi_v1_models")  # tiny-llama, tiny-alias, my-adapter, json-adapter, json-badbase
    plan = matching.make_plan([placeholder()], [answered("http://gpu1:8000", listed)], Options(), COLUMNS)
    [entry] = plan.unresolved
    assert [(c["served_id"], c["aliases"], c["base"]) for c in entry["candidates"]] == [
        ("tiny-llama", ["tiny-alias"], None), ("my-adapter", [], "tiny-llama"),
        ("json-adapter", [], "tiny-llama"), ("json-badbase", [], "tiny-llama")]
    assert [c["name"] for c in entry["candidates"]][1:] == [
        "my-adapter (LoRA on tiny-llama)", "json-adapter (LoRA on tiny-llama)", "json-badbase (LoRA on tiny-llama)"]


# ----------------------------------------------------------------- guided naming never merges models

CLAIMER = "5b1e0c2a-0000-4000-8000-000000000001"


def human_row(model: str, name: str, **fields) -> Row:
    """A row a person named: backfill never renames it."""
    return dataclasses.replace(row(model, name=name, **fields), replaceable=False, placeholder=False)


def claimed_server(url: str = "http://gpu1:8000", named: bool = False) -> tuple[Row, vllm.Result]:
    """A server whose one model has a row already (named 'Tiny Llama' by a person)."""
    owner = human_row(CLAIMER, "Tiny Llama", base_url=url, served="tiny-llama")
    return owner, answered(url, cards("b1_served_name_v1_models"), named=named)


def test_a_model_another_row_claims_is_never_the_likeliest():
    owner, result = claimed_server()
    plan = matching.make_plan([owner, placeholder()], [result], Options(), COLUMNS)
    [entry] = plan.unresolved
    assert entry["candidates"][0]["claimed_by"] == [{"model": CLAIMER, "name": "Tiny Llama"}]
    assert entry["suggested"] is None
    assert entry["suggestion_note"] == ("no guess: every served model already has a row "
                                        "(a second row for one gives two models one name)")
    assert entry["commands"]["map"] == f"pgmodelnames backfill --map {PLACEHOLDER}=SERVED_ID"


def test_the_four_placeholders_of_issue_18_get_no_guess():
    """One server refused for lack of a key, and every model the others serve already has a row:
    the four printed lines once all named acme/tiny-chat-1b; now none guesses."""
    served = [vllm.Card("acme/tiny-chat-1b", "/models/acme", None)]
    owner = human_row(CLAIMER, "acme/tiny-chat-1b", base_url="http://gpu1:8000", served="acme/tiny-chat-1b")
    refused = vllm.Result(vllm.Endpoint("http://gpu2:8000", named=False), error="HTTP 401 Unauthorized: ...")
    waiting = [placeholder(f"{n}{n}{n}{n}{n}{n}{n}{n}-0000-4000-8000-000000000000") for n in range(1, 4)]
    waiting.append(row(OTHER, placeholder=True, base_url="http://gpu2:8000"))
    plan = matching.make_plan([owner, *waiting], [answered("http://gpu1:8000", served), refused], Options(), COLUMNS)
    assert len(plan.unresolved) == 4
    for entry in plan.unresolved:
        assert entry["suggested"] is None
        assert entry["commands"]["map"].endswith("=SERVED_ID")
        assert entry["suggestion_note"] == ("no guess: http://gpu2:8000 did not answer, "
                                            "and the model may be one it serves")


def test_a_silent_server_stops_every_guess():
    """Even a placeholder whose own server answered, with one model no row claims, gets no guess:
    a server that was asked and did not answer may serve it."""
    own = row(PLACEHOLDER, placeholder=True, base_url="http://gpu1:8000", model_id="gone")  # not served: unmatched
    listed = answered("http://gpu1:8000", cards("b1_served_name_v1_models"))
    [entry] = matching.make_plan([own], [listed], Options(), COLUMNS).unresolved
    assert (entry["suggested"], entry["suggestion_note"]) == ("tiny-llama", candidates.ONLY_FREE_OWN)
    down = [vllm.Result(vllm.Endpoint(url, named=True), error="timed out") for url in ("http://a:1", "http://b:1")]
    [entry] = matching.make_plan([own], [listed, *down], Options(), COLUMNS).unresolved
    assert entry["suggested"] is None
    assert entry["suggestion_note"] == ("no guess: http://a:1, http://b:1 did not answer, "
                                        "and the model may be one they serve")
    assert entry["commands"]["map"] == f"pgmodelnames backfill --map {PLACEHOLDER}=SERVED_ID"


def test_one_served_model_is_never_given_to_two_placeholders():
    listed = cards("b2_two_names_v1_models")  # one model, no row yet
    plan = matching.make_plan([placeholder(), placeholder(OTHER)], [answered("http://gpu1:8000", listed)],
                              Options(), COLUMNS)
    by_model = {entry["model"]: entry for entry in plan.unresolved}
    assert [by_model[m]["suggested"] for m in (PLACEHOLDER, OTHER)] == [None, None]
    assert by_model[PLACEHOLDER]["suggestion_note"] == (
        f"no guess: 'tiny-llama' would also be the likeliest for {OTHER[:8]}, "
        "and two placeholders are never given one served model")
    assert by_model[OTHER]["suggestion_note"].endswith(f"the likeliest for {PLACEHOLDER[:8]}, and two placeholders "
                                                       "are never given one served model")
    assert all(entry["commands"]["map"].endswith("=SERVED_ID") for entry in plan.unresolved)


def test_placeholders_with_different_likeliest_models_each_get_theirs():
    """Each placeholder of its own server: each server's one unclaimed model is its likeliest."""
    one = row(PLACEHOLDER, placeholder=True, base_url="http://gpu1:8000", model_id="gone-1")
    two = row(OTHER, placeholder=True, base_url="http://gpu2:8000", model_id="gone-2")
    results = [answered("http://gpu1:8000", cards("b1_served_name_v1_models")),
               answered("http://gpu2:8000", cards("c1_lora_v1_models")[1:])]  # my-adapter only
    plan = matching.make_plan([one, two], results, Options(), COLUMNS)
    assert {e["model"]: (e["suggested"], e["suggestion_note"]) for e in plan.unresolved} == {
        PLACEHOLDER: ("tiny-llama", candidates.ONLY_FREE_OWN), OTHER: ("my-adapter", candidates.ONLY_FREE_OWN)}
    assert {e["model"]: e["commands"]["map"] for e in plan.unresolved} == {
        PLACEHOLDER: f"pgmodelnames backfill --map {PLACEHOLDER}=tiny-llama",
        OTHER: f"pgmodelnames backfill --map {OTHER}=my-adapter"}


def test_an_id_another_endpoint_lists_too_is_no_guess():
    """A --map by id lands on the row's own endpoint, else the first named one: the likeliest
    model of a third server would land elsewhere, maybe on a model that has a row."""
    owner, named = claimed_server("http://named:8000", named=True)
    other = answered("http://other:8000", cards("b1_served_name_v1_models"))
    plan = matching.make_plan([owner, placeholder()], [named, other], Options(), COLUMNS)
    [entry] = plan.unresolved
    assert [(c["endpoint"], bool(c["claimed_by"])) for c in entry["candidates"]] == [
        ("http://other:8000", False), ("http://named:8000", True)]
    assert entry["suggested"] is None
    assert entry["suggestion_note"] == "no guess: http://named:8000 also serves 'tiny-llama'"
    # On its own endpoint it is sure: --map uses that one first.
    own = row(PLACEHOLDER, placeholder=True, base_url="http://other:8000", model_id="gone")
    [entry] = matching.make_plan([owner, own], [named, other], Options(), COLUMNS).unresolved
    assert (entry["suggested"], entry["suggestion_note"]) == ("tiny-llama", candidates.ONLY_FREE_OWN)


@pytest.mark.parametrize("served, note", [
    pytest.param([], "no guess: no server answered", id="nothing-answered"),
    pytest.param(["c1_lora_v1_models"], "no guess: 2 served models have no row yet", id="two-free"),
    pytest.param(["b2_two_names_v1_models"], candidates.ONLY_FREE, id="one-model-two-names"),
])
def test_why_there_is_or_is_no_guess(served, note):
    results = [answered(f"http://gpu{n}:8000", cards(name)) for n, name in enumerate(served, 1)]
    [entry] = matching.make_plan([placeholder()], results, Options(), COLUMNS).unresolved
    assert entry["suggestion_note"] == note
    assert (entry["suggested"] is None) is note.startswith("no guess")


def test_own_endpoint_with_several_free_models_says_so():
    own = row(PLACEHOLDER, placeholder=True, base_url="http://gpu1:8000")  # the server has two base models
    listed = [vllm.Card("llama", "/m/llama", None), vllm.Card("qwen", "/m/qwen", None)]
    [entry] = matching.make_plan([own], [answered("http://gpu1:8000", listed)], Options(), COLUMNS).unresolved
    assert entry["suggestion_note"] == "no guess: 2 served models on its own endpoint have no row yet"


def test_likeliest_counts_what_an_assign_walk_took():
    entry = {"model": PLACEHOLDER, "endpoint": None,
             "candidates": [{"endpoint": "http://gpu1:8000", "served_id": "a", "aliases": [], "claimed_by": []},
                            {"endpoint": "http://gpu1:8000", "served_id": "b", "aliases": [], "claimed_by": []}]}
    assert candidates.likeliest([entry])[PLACEHOLDER] == (None, "no guess: 2 served models have no row yet")
    chosen, note = candidates.likeliest([entry], taken={("http://gpu1:8000", "a"): OTHER})[PLACEHOLDER]
    assert (chosen["served_id"], note) == ("b", candidates.ONLY_FREE)
    taken = {("http://gpu1:8000", "a"): OTHER, ("http://gpu1:8000", "b"): OTHER}
    assert candidates.likeliest([entry], taken=taken)[PLACEHOLDER] == (
        None, "no guess: every served model already has a row or was chosen above "
              "(a second row for one gives two models one name)")


# ----------------------------------------------------------------- the --assign walk

P1, P2, P3 = (f"{n}{n}{n}{n}{n}{n}{n}{n}-0000-4000-8000-00000000000{n}" for n in (1, 2, 3))


def walk(*rows: Row) -> candidates.Walk:
    """Three placeholders, one server: tiny-llama (its row, 'Tiny Llama', claims it) and my-adapter (no row)."""
    owner = human_row(CLAIMER, "Tiny Llama", base_url="http://gpu1:8000", served="tiny-llama")
    waiting = [placeholder(P1), placeholder(P2), placeholder(P3)]
    plan = matching.make_plan([owner, *waiting, *rows], [answered("http://gpu1:8000", cards("c1_lora_v1_models"))],
                              Options(), COLUMNS)
    assert [entry["model"] for entry in plan.unresolved] == [P1, P2, P3]
    names = ((CLAIMER, "Tiny Llama"), *((r.id, r.name) for r in (*waiting, *rows)))
    return candidates.Walk(plan.unresolved, (), names)


def test_a_model_chosen_in_the_walk_is_not_the_likeliest_for_the_next():
    steps = walk()
    assert [c["served_id"] for c in steps.entries[0]["candidates"]] == ["my-adapter", "tiny-llama"]
    first, note = steps.likeliest(0)  # three placeholders for one unclaimed model
    assert first is None and note.startswith(f"no guess: 'my-adapter' would also be the likeliest for {P2[:8]}, ")
    pick = steps.answer(0, "1")
    assert (pick.kind, pick.candidate["served_id"]) == ("pick", "my-adapter")  # unclaimed: taken at once
    steps.record(0, pick)
    assert steps.taken() == {("http://gpu1:8000", "my-adapter"): P1}
    assert steps.likeliest(1) == (None, "no guess: every served model already has a row or was chosen above "
                                        "(a second row for one gives two models one name)")
    assert steps.maps() == ((P1, "my-adapter", "http://gpu1:8000"),)


def test_the_last_placeholder_left_gets_the_model_no_one_took():
    steps = walk()
    steps.record(0, candidates.Answer("skip"))
    candidate, note = steps.likeliest(1)  # P1 is passed: only P2 and P3 compete
    assert candidate is None and f"likeliest for {P3[:8]}, " in note
    steps.record(1, candidates.Answer("name", name="Llama 3.1 8B"))
    candidate, note = steps.likeliest(2)
    assert (candidate["number"], candidate["served_id"], note) == (1, "my-adapter", candidates.ONLY_FREE)


def test_choosing_a_model_another_row_has_asks_again_and_names_that_row():
    steps = walk()
    again = steps.answer(0, "2")
    assert again.kind == "again"
    assert again.problem == (f"2. tiny-llama is already the model of row {CLAIMER} 'Tiny Llama': choosing it gives "
                             "two models one name. Type 2 again to choose it all the same, or another number, "
                             "a name, s or q")
    confirmed = steps.answer(0, " 2 ")
    assert (confirmed.kind, confirmed.candidate["served_id"]) == ("pick", "tiny-llama")
    # Another answer in between: the confirmation is asked for again.
    assert steps.answer(1, "2").kind == "again"
    assert steps.answer(1, "x").kind == "name"
    assert steps.answer(1, "2").kind == "again"
    # A confirmation is for that placeholder only.
    assert steps.answer(2, "2").kind == "again"


def test_choosing_a_model_chosen_above_asks_again_and_names_that_placeholder():
    steps = walk()
    steps.record(0, steps.answer(0, "1"))
    again = steps.answer(1, "1")
    assert again.kind == "again" and again.problem.startswith(
        f"1. my-adapter is already the model of {P1} (chosen above): choosing it gives two models one name.")
    assert steps.answer(1, "1").kind == "pick"


def test_a_typed_name_another_model_has_is_warned_about_as_rename_does():
    steps = walk(human_row(OTHER, "Qwen 2.5", base_url="http://gpu9:8000"))
    fresh = steps.answer(0, "Llama 3.1 8B")
    assert (fresh.kind, fresh.name, fresh.note) == ("name", "Llama 3.1 8B", None)
    twin = steps.answer(0, "Tiny Llama")
    assert (twin.kind, twin.name) == ("name", "Tiny Llama")  # allowed, as rename allows it
    assert twin.note == (f"note: 1 other model(s) already have the name 'Tiny Llama' (row {CLAIMER} 'Tiny Llama'); "
                         "analytics will group them together")
    assert steps.answer(0, "Qwen 2.5").note.startswith("note: 1 other model(s) already have the name 'Qwen 2.5'")
    # Names given earlier in the walk count: a typed one, and the name a chosen model gives.
    steps.record(0, steps.answer(0, "Llama 3.1 8B"))
    steps.record(1, steps.answer(1, "1"))  # my-adapter (LoRA on tiny-llama)
    assert steps.answer(2, "Llama 3.1 8B").note == (
        f"note: 1 other model(s) already have the name 'Llama 3.1 8B' (row {P1} 'Llama 3.1 8B'); "
        "analytics will group them together")
    assert "(row " + P2 in steps.answer(2, "my-adapter (LoRA on tiny-llama)").note
    assert steps.typed == {P1: "Llama 3.1 8B"}
    # Its own name is no twin: P3 keeps its placeholder name until the walk is applied.
    assert steps.answer(2, "Unknown vllm model 22222222").note is None  # P2's name goes with its pick
    assert steps.answer(2, "Unknown vllm model 33333333").kind == "again"  # its own placeholder name: refused


def test_a_row_register_new_adds_counts_as_a_model_with_that_name():
    steps = candidates.Walk([{**ENTRY, "candidates": []}], (), ((None, "tiny-llama"),))
    assert steps.answer(0, "tiny-llama").note == (
        "note: 1 other model(s) already have the name 'tiny-llama' (the row --register-new adds ('tiny-llama')); "
        "analytics will group them together")


def test_a_silent_server_means_no_likeliest_in_the_walk_either():
    steps = walk()
    steps.failed = ("http://gpu2:8000",)
    steps.record(0, candidates.Answer("skip"))
    steps.record(1, candidates.Answer("skip"))
    assert steps.likeliest(2) == (None, "no guess: http://gpu2:8000 did not answer, "
                                        "and the model may be one it serves")


# ----------------------------------------------------------------- keys in the printed commands

def test_printed_commands_carry_each_keys_reference_never_the_key():
    gpu1 = answered("http://gpu1:8000", cards("c1_lora_v1_models"), named=True)
    gpu2 = answered("http://gpu2:8000", cards("b2_two_names_v1_models"), named=True)
    keys = (ServerKey("http://gpu1:8000", "env", "GPU1_KEY", "k-one"),
            ServerKey("http://gpu2:8000", "file", "/run/secrets/gpu 2", "k-two"))
    plan = matching.make_plan([placeholder()], [gpu1, gpu2], Options(keys=keys), COLUMNS)
    [entry] = plan.unresolved
    tail = ("--endpoint http://gpu1:8000/v1 --api-key-env http://gpu1:8000/v1=GPU1_KEY "
            "--endpoint http://gpu2:8000/v1 --api-key-file 'http://gpu2:8000/v1=/run/secrets/gpu 2'")
    assert entry["commands"]["map"] == f"pgmodelnames backfill --map {PLACEHOLDER}=SERVED_ID {tail}"
    assert entry["commands"]["assign"] == f"pgmodelnames backfill --assign {tail}"
    assert "k-one" not in json.dumps(entry) and "k-two" not in json.dumps(entry)


def test_a_typed_key_is_given_again_through_vllm_api_key():
    result = answered("http://gpu1:8000", cards("b1_served_name_v1_models"), named=True)
    keys = (ServerKey("http://gpu1:8000", "option", "--api-key", "typed-key"),)
    [entry] = matching.make_plan([placeholder()], [result], Options(keys=keys), COLUMNS).unresolved
    assert entry["commands"]["map"] == (f"pgmodelnames backfill --map {PLACEHOLDER}=tiny-llama "
                                        "--endpoint http://gpu1:8000/v1 --api-key-env http://gpu1:8000/v1=VLLM_API_KEY")


def test_a_key_of_an_endpoint_that_failed_is_not_repeated():
    ok = answered("http://gpu1:8000", cards("b1_served_name_v1_models"), named=True)
    down = vllm.Result(vllm.Endpoint("http://gpu2:8000", named=True, raw="http://gpu2:8000"), error="timed out")
    keys = (ServerKey("http://gpu2:8000", "env", "GPU2_KEY", "k"),)
    assert candidates.command_endpoints([ok, down], {"http://gpu2:8000": keys[0].option("http://gpu2:8000")}) == [
        "--endpoint http://gpu1:8000/v1"]


# ----------------------------------------------------------------- the shape of what is printed

def test_an_unresolved_entry_holds_everything_a_person_and_a_script_need():
    """Its own endpoint's candidates come first among the unclaimed, whatever the servers' order."""
    own = row(PLACEHOLDER, placeholder=True, base_url="http://gpu2:8000", model_id="gone")
    results = [answered("http://gpu1:8000", cards("b1_served_name_v1_models")),
               answered("http://gpu2:8000", cards("c1_lora_v1_models")[1:])]
    [entry] = matching.make_plan([own], results, Options(), COLUMNS).unresolved
    assert entry == {
        "model": PLACEHOLDER, "name": f"Unknown vllm model {PLACEHOLDER[:8]}", "provider": "vllm",
        "placeholder_name": f"Unknown vllm model {PLACEHOLDER[:8]}",
        "reason": ("the server does not serve its model_id 'gone' (it serves my-adapter); "
                   "not renamed after another model"),
        "kind": "not_matched", "needs_a_person": True, "endpoint": "http://gpu2:8000", "evidence": None,
        "candidates": [
            {"number": 1, "endpoint": "http://gpu2:8000", "served_id": "my-adapter",
             "name": "my-adapter (LoRA on tiny-llama)", "kind": "adapter", "base": "tiny-llama", "aliases": [],
             "claimed_by": []},
            {"number": 2, "endpoint": "http://gpu1:8000", "served_id": "tiny-llama", "name": "tiny-llama",
             "kind": "base model", "base": None, "aliases": [], "claimed_by": []}],
        "suggested": "my-adapter", "suggestion_note": candidates.ONLY_FREE_OWN,
        "commands": {"map": f"pgmodelnames backfill --map {PLACEHOLDER}=my-adapter",
                     "rename": f'pgmodelnames rename {PLACEHOLDER} "NAME"',
                     "assign": "pgmodelnames backfill --assign"}}


def test_aliases_are_listed_in_the_servers_order():
    listed = [vllm.Card("tiny-llama", "/m/t", None), vllm.Card("zeta", "/m/t", None), vllm.Card("alpha", "/m/t", None)]
    [entry] = matching.make_plan([placeholder()], [answered("http://gpu1:8000", listed)], Options(),
                                 COLUMNS).unresolved
    assert [(c["served_id"], c["aliases"]) for c in entry["candidates"]] == [("tiny-llama", ["zeta", "alpha"])]


def test_evidence_is_attached_where_there_is_some_and_orders_by_messages_then_id():
    entries = [{"model": m, "evidence": None} for m in ("b", "d", "a", "e", "c")]
    found = {"a": {"messages": 3}, "b": {"messages": 40}, "c": {"messages": None}, "e": {"messages": 1}}
    assert candidates.attach_evidence(entries, found) is entries
    assert [(e["model"], e["evidence"]) for e in entries] == [
        ("b", {"messages": 40}), ("a", {"messages": 3}), ("e", {"messages": 1}), ("c", {"messages": None}),
        ("d", None)]


LONG = "org/" + "x" * 96  # a served id longer than any line cuts it to


def test_long_ids_and_many_servers_are_cut_never_silently():
    down = [vllm.Result(vllm.Endpoint(f"http://down{n}:1", named=True), error="timed out") for n in range(4)]
    [entry] = matching.make_plan([placeholder()], down, Options(), COLUMNS).unresolved
    assert entry["suggestion_note"] == ("no guess: http://down0:1, http://down1:1, http://down2:1 and 1 more "
                                        "did not answer, and the model may be one they serve")
    listed = [vllm.Card(LONG, "/m/long", None)]
    rivals = [placeholder(f"{n}{n}{n}{n}{n}{n}{n}{n}-0000-4000-8000-000000000000") for n in range(1, 6)]
    plan = matching.make_plan(rivals, [answered("http://gpu1:8000", listed)], Options(), COLUMNS)
    shown = repr(LONG[:59] + "…")
    assert plan.unresolved[0]["suggestion_note"] == (
        f"no guess: {shown} would also be the likeliest for 22222222, 33333333, 44444444 and 1 more, "
        "and two placeholders are never given one served model")


def test_an_id_other_endpoints_list_even_as_an_alias_is_no_guess():
    """--map P=tiny-alias would land on the first endpoint that lists it: here one whose model has a row."""
    owner = human_row(CLAIMER, "Ours", base_url="http://a:1", served="tiny-llama")
    a = answered("http://a:1", cards("b2_two_names_v1_models"))  # tiny-llama, also served as tiny-alias
    b = answered("http://b:1", [vllm.Card("tiny-alias", "/m/other", None)])
    [entry] = matching.make_plan([owner, placeholder()], [a, b], Options(), COLUMNS).unresolved
    assert [(c["endpoint"], c["served_id"], bool(c["claimed_by"])) for c in entry["candidates"]] == [
        ("http://b:1", "tiny-alias", False), ("http://a:1", "tiny-llama", True)]
    assert entry["suggestion_note"] == "no guess: http://a:1 also serves 'tiny-alias'"


def test_an_id_two_other_endpoints_list_names_both():
    owners = [human_row(CLAIMER, "Ours", base_url="http://a:1", served=LONG),
              human_row(OTHER, "Theirs", base_url="http://c:1", served=LONG)]
    results = [answered(url, [vllm.Card(LONG, "/m/long", None)]) for url in ("http://a:1", "http://b:1", "http://c:1")]
    [entry] = matching.make_plan([*owners, placeholder()], results, Options(), COLUMNS).unresolved
    assert entry["suggestion_note"] == f"no guess: http://a:1, http://c:1 also serve {LONG[:59] + '…'!r}"


@pytest.mark.parametrize("typed, problem", [
    ("skip", None), ("QUIT", None),
    ("", "type a number, a name, s to skip or q to stop"),
    ("3", "no candidate 3: choose 1 to 2, or type a name, s or q"),
])
def test_read_answer_words_and_problems(typed, problem):
    answer = candidates.read_answer(typed, ENTRY)
    assert answer.kind == {"skip": "skip", "QUIT": "quit"}.get(typed, "again")
    assert answer.problem == problem


def test_with_no_candidate_a_number_asks_for_a_name():
    answer = candidates.read_answer("1", {**ENTRY, "candidates": []})
    assert (answer.kind, answer.problem) == ("again", "there is no served model to choose from: type a name, s or q")


def test_a_long_claimed_id_and_a_nameless_claimer_are_shown_whole_enough():
    nameless = row(OTHER, model_id=LONG)  # no endpoint, no name: it registers LONG all the same
    listed = [vllm.Card(LONG, "/m/long", None)]
    plan = matching.make_plan([nameless, placeholder()], [answered("http://gpu1:8000", listed)], Options(), COLUMNS)
    entries = [e for e in plan.unresolved if e["model"] == PLACEHOLDER]
    steps = candidates.Walk(entries, (), ((OTHER, None),))
    assert steps.answer(0, "1").problem == (
        f"1. {LONG[:59]}… is already the model of row {OTHER} (no name): choosing it gives two models one name. "
        "Type 1 again to choose it all the same, or another number, a name, s or q")
    many = [{"model": f"{n}" * 8, "name": "n"} for n in range(5)]
    steps = candidates.Walk([{**ENTRY, "candidates": [{**ENTRY["candidates"][0], "endpoint": "e", "aliases": [],
                                                         "claimed_by": many}]}])
    assert "row 00000000 'n', row 11111111 'n', row 22222222 'n' and 2 more: choosing" in steps.answer(0, "1").problem
    twins = candidates.Walk([ENTRY], (), tuple((m["model"], "Same") for m in many))
    assert twins.answer(0, "Same").note == (
        "note: 5 other model(s) already have the name 'Same' (row 00000000 'Same', row 11111111 'Same', "
        "row 22222222 'Same' and 2 more); analytics will group them together")
