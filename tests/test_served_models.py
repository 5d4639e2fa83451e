"""What servers said, made fit to show and to store (served_models.py), each
rule pinned by examples without a database or a server: the names of
served models (aliases, LoRA adapters, ids that are no name), lists cut for
a line, ids that cannot be stored, where a row's model is served."""

from __future__ import annotations

import hashlib

import pytest

from pgmodelnames import matching, served_models, vllm
from pgmodelnames.names import MAX_NAME_CHARS
from pgmodelnames.vllm import Card

U = "fdab6388-0c1e-4c5a-9f0e-6b1d2a7c9e41"
ENDPOINT = vllm.Endpoint("http://gpu1:8000", True, "http://gpu1:8000/v1")

# One server: a model served under two names (one root), a LoRA adapter on
# its second name, and another model.
LLAMA = Card("llama", "/m/llama", None, "vllm")
ALIAS = Card("llama-alias", "/m/llama", None, "vllm")
LORA = Card("sql-lora", "/a/sql", "llama-alias", "vllm")
QWEN = Card("qwen", "/m/qwen", None, "vllm")
SERVER = [LLAMA, ALIAS, LORA, QWEN]


@pytest.mark.parametrize("card, expected", [
    pytest.param(LLAMA, LLAMA, id="first-name-is-itself"),
    pytest.param(ALIAS, LLAMA, id="alias-is-the-first-name"),
    pytest.param(LORA, LORA, id="adapter-is-itself"),
    pytest.param(QWEN, QWEN, id="other-model"),
    pytest.param(Card("bare", None, None), Card("bare", None, None), id="no-root"),
    pytest.param(Card("elsewhere", "/m/other", None), Card("elsewhere", "/m/other", None), id="not-in-the-list"),
])
def test_primary(card, expected):
    assert served_models.primary(card, SERVER) == expected


@pytest.mark.parametrize("card, expected", [
    pytest.param(LLAMA, {"llama", "llama-alias"}, id="base"),
    pytest.param(ALIAS, {"llama", "llama-alias"}, id="alias"),
    pytest.param(LORA, {"sql-lora"}, id="adapter"),
    pytest.param(Card("bare", None, None), {"bare"}, id="no-root"),
])
def test_aliases(card, expected):
    assert served_models.alias_set(card, SERVER) == expected


@pytest.mark.parametrize("card, cards, expected", [
    pytest.param(ALIAS, SERVER, "llama", id="alias-named-by-the-first-name"),
    pytest.param(ALIAS, (), "llama-alias", id="alone-named-by-its-id"),
    pytest.param(LORA, SERVER, "sql-lora (LoRA on llama)", id="adapter-on-the-first-name-of-its-base"),
    pytest.param(LORA, (), "sql-lora (LoRA on llama-alias)", id="adapter-alone"),
    pytest.param(Card("a", "/a", "not-listed"), SERVER, "a (LoRA on not-listed)", id="base-not-listed"),
    pytest.param(Card(" gpt\x00-4o\n", None, None), (), "gpt-4o", id="cleaned"),
    pytest.param(Card("x" * 300, None, None), (), "x" * (MAX_NAME_CHARS - 1) + "…", id="cut-to-the-cap"),
    pytest.param(Card("x" * 300, "/a", "base"), (), "x" * 183 + "… (LoRA on base)", id="adapter-cut-to-the-cap"),
    pytest.param(Card("a", "/a", "b" * 100), (), "a (LoRA on " + "b" * 79 + "…)", id="long-base-cut-to-80"),
    pytest.param(Card("a", "/a", "\u200b"), (), "a (LoRA on ?)", id="base-without-a-visible-character"),
    # Ids that are no name (a bare UUID, nothing visible) get one that says what they are.
    pytest.param(Card(U, "/m", None), (), f"vLLM model {U}", id="uuid-id"),
    pytest.param(Card("\u200b", None, None), (),
                 "vLLM model " + hashlib.sha256("\u200b".encode()).hexdigest()[:8], id="invisible-id"),
    pytest.param(Card(U, "/a", "b" * 100), (), f"vLLM model {U} (LoRA on " + "b" * 79 + "…)", id="uuid-adapter"),
    pytest.param(Card(U, "/a", "\u200b"), (), f"vLLM model {U} (LoRA on ?)", id="uuid-adapter-invisible-base"),
    # Only an adapter's own part is judged: a model's id that merely looks like an adapter's name is its name.
    pytest.param(Card(f"{U} (LoRA on x)", "/m", None), (), f"{U} (LoRA on x)", id="id-with-lora-text"),
])
def test_card_name(card, cards, expected):
    name = served_models.card_name(card, list(cards))
    assert name == expected
    assert len(name) <= MAX_NAME_CHARS and served_models.usable(name)


@pytest.mark.parametrize("items, expected", [
    pytest.param([], "", id="none"),
    pytest.param(["a", "b"], "a, b", id="two"),
    pytest.param(list("abcde"), "a, b, c, d, e", id="exactly-the-limit"),
    pytest.param(list("abcdefgh"), "a, b, c, d, e and 3 more", id="three-more"),
    pytest.param(["x" * 60, "y" * 61, "bad\nline"], "x" * 60 + ", " + "y" * 59 + "…, bad line", id="items-cut-to-60"),
])
def test_listing(items, expected):
    assert served_models.listing(iter(items)) == expected


def test_listing_limits():
    assert served_models.listing("abc", limit=2) == "a, b and 1 more"
    assert served_models.listing(["abcdef"], width=4) == "abc…"


def test_short_show_own():
    assert served_models.cut(None) == ""
    assert served_models.cut("a\tb\x00c") == "a bc"
    assert served_models.cut("s" * 61) == "s" * 59 + "…"
    assert served_models.cut("s" * 60) == "s" * 60
    assert served_models.cut("s" * 20, 10) == "s" * 9 + "…"
    assert served_models.shown_or_none(None) == "(none)"
    assert served_models.shown_or_none("") == ""
    assert served_models.shown_or_none("t" * 61) == "t" * 59 + "…"
    assert [served_models.non_blank(v) for v in (None, "", " \t", " a ")] == [None, None, None, "a"]


def _row(base_url=None, recorded_endpoint=None) -> matching.Row:
    return matching.Row(id=U, name=None, provider="vllm", covered=True, base_url=base_url, model_id=None,
                        served_model_name=None, base_model=None, replaceable=True, placeholder=True,
                        recorded_endpoint=recorded_endpoint)


@pytest.mark.parametrize("base_url, recorded, expected", [
    pytest.param("http://gpu1:8000/v1/models/", None, "http://gpu1:8000", id="normalized"),
    pytest.param("  ", "https://gpu2/v1", "https://gpu2", id="blank-base-url-then-the-recorded-one"),
    pytest.param(None, None, None, id="nowhere"),
    pytest.param("gpu1:8000", None, None, id="not-a-url"),
    pytest.param("http://user:pw@gpu1:8000", None, None, id="refused-url"),
])
def test_where_a_row_is_served(base_url, recorded, expected):
    for _ in range(2):  # the second answer comes from the cache: the same
        assert _row(base_url, recorded).endpoint_url == expected


def test_no_test_inherits_the_endpoint_cache():
    """The test above filled it; tests/conftest.py empties it before each test."""
    assert served_models._endpoint_cache == {}


@pytest.mark.parametrize("value, problem", [
    pytest.param("llama", None, id="plain"),
    pytest.param("x" * 2000, None, id="2000-bytes"),
    pytest.param("é" * 1000, None, id="2000-bytes-of-two-byte-characters"),
    pytest.param("a\x00b", "its id contains a NUL character, which PostgreSQL text cannot hold", id="nul"),
    pytest.param("x" * 2001, "its id is 2001 characters (2001 bytes), too long to store in an indexed column "
                 "(over 2000 bytes); it is not stored truncated", id="2001-bytes"),
    pytest.param("é" * 1001, "its id is 1001 characters (2002 bytes), too long to store in an indexed column "
                 "(over 2000 bytes); it is not stored truncated", id="bytes-not-characters"),
    pytest.param("a\ud800", "its id is not valid Unicode (lone surrogate)", id="lone-surrogate"),
    pytest.param("tiny\x1b[2J", "its id contains control, invisible or text-direction characters, which "
                 "pgmodelnames does not store (they could reach a terminal or make a dashboard show something "
                 "else)", id="hidden"),
])
def test_unstorable(value, problem):
    assert served_models.unstorable(value) == problem


def test_screen_keeps_what_can_be_stored_and_says_what_it_skipped():
    answer = vllm.Result(ENDPOINT, cards=[
        LLAMA, Card("bad\x00id", "/m", None), Card("lora", "/a", "p" * 2001), Card("long-root", "r" * 2001, None, "me"),
        LORA], seconds=1.5)
    kept, notices = served_models.screen(answer)
    assert kept == vllm.Result(ENDPOINT, cards=[LLAMA, Card("long-root", None, None, "me"), LORA], seconds=1.5)
    too_long = ("its id is 2001 characters (2001 bytes), too long to store in an indexed column (over 2000 bytes); "
                "it is not stored truncated")
    assert notices == ["skipped served model 2 (badid): its id contains a NUL character, which PostgreSQL text "
                       "cannot hold", f"skipped served model 3 (lora): {too_long}"]


def test_screen_an_answer_with_nothing_to_store_is_a_failure():
    answer = vllm.Result(ENDPOINT, cards=[Card("\x00" + "n" * 50, None, None)], seconds=0.25)
    failed, notices = served_models.screen(answer)
    assert failed == vllm.Result(ENDPOINT, error="the server lists no model that can be stored (all skipped)",
                                 seconds=0.25)
    assert notices == ["skipped served model 1 (" + "n" * 39 + "…): its id contains a NUL character, which "
                       "PostgreSQL text cannot hold"]


def test_screen_leaves_a_failure_alone():
    failed = vllm.Result(ENDPOINT, error="HTTP 500 server error", seconds=0.1)
    assert served_models.screen(failed) == (failed, [])


# ----------------------------------------------------------------- served paths

@pytest.mark.parametrize("served, readable", [
    ("/models/qwen2.5-7b-instruct", "qwen2.5-7b-instruct"),
    ("/models/qwen2.5-7b-instruct/", "qwen2.5-7b-instruct"),
    ("./models/tiny", "tiny"), ("../tiny", "tiny"), ("/models/TINYX//", "TINYX"), ("~/m/llama", "llama"),
    ("/root/.cache/huggingface/hub/models--meta-llama--Llama-3.2-3B-Instruct/snapshots/0cb88a4f",
     "meta-llama/Llama-3.2-3B-Instruct"),
    ("models--Qwen--Qwen2.5-7B-Instruct/snapshots/abc/", "Qwen/Qwen2.5-7B-Instruct"),
    ("x/models--a--b/snapshots/c", "a/b"),
    ("/data/models--a--b--c/snapshots/1", "a/b--c"),  # the owner ends at the first "--"
    # Not a path, or nothing after the last slash: as served.
    ("/", "/"), ("//", "//"), ("tiny-llama", "tiny-llama"), ("meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-8B"),
    ("relative/path", "relative/path"), ("", ""), (" /models/x ", " /models/x "),
    ("models--a--b/snapshots/c/d", "models--a--b/snapshots/c/d"), ("models--a--b/snapshot/c", "models--a--b/snapshot/c"),
    ("a/models--o--r/snapshots//", "a/models--o--r/snapshots//"),
])
def test_readable_id(served, readable):
    assert served_models.readable_id(served) == readable


def test_card_name_of_a_path_reads_as_its_folder_unless_that_is_unusable():
    assert served_models.card_name(Card("/models/tiny-llama", "/models/tiny-llama", None)) == "tiny-llama"
    assert served_models.card_name(Card("/models/ ", None, None)) == "/models/"  # " " is no name: the id, cleaned
    adapter = Card("my-adapter", "/adapters/a", "/models/tiny-llama")
    assert served_models.card_name(adapter) == "my-adapter (LoRA on tiny-llama)"


def test_an_adapter_sharing_its_bases_root_is_neither_its_alias_nor_its_primary():
    """vLLM gives an adapter its own path as root, but a server may repeat the base's: the
    adapter is still itself, never one of the base's served names."""
    base, alias = Card("base", "/m/base", None), Card("base-alias", "/m/base", None)
    adapter = Card("lora", "/m/base", "base")
    cards = [adapter, base, alias]
    assert served_models.primary(adapter, cards) is adapter
    assert served_models.alias_ids(base, cards) == ["base", "base-alias"]
    assert served_models.alias_ids(adapter, cards) == ["lora"]
    assert served_models.primary(alias, cards) is base
