"""Other OpenAI-compatible servers, from their real recorded answers
(fixtures/openai_compatible/: a LiteLLM proxy 1.108.7 and llama-cpp-python's
server 0.3.36): cards that carry little beyond "id" are read, named and
matched like vLLM's, and their error answers get the same one-line reasons."""

from __future__ import annotations

import pytest

from werkzeug import Request, Response

from pgmodelnames import matching, served_models, vllm
from recorded_vllm import FIXTURES, recording
from support import add_model

RECORDED = FIXTURES / "openai_compatible"


def cards(name: str) -> list[vllm.Card]:
    return vllm.parse_models((RECORDED / f"{name}.json").read_bytes())


@pytest.mark.unit
@pytest.mark.parametrize("name, expected", [
    # LiteLLM lists each model_name of its config; the backend model is not shown.
    ("litellm_nokey_v1_models", [vllm.Card("llama-3.1-8b", None, None, "openai"),
                                 vllm.Card("qwen2.5-7b", None, None, "openai"),
                                 vllm.Card("qwen-alias", None, None, "openai")]),
    ("litellm_masterkey_v1_models_good_key", [vllm.Card("llama-3.1-8b", None, None, "openai"),
                                              vllm.Card("qwen2.5-7b", None, None, "openai"),
                                              vllm.Card("qwen-alias", None, None, "openai")]),
    # llama.cpp's server: the GGUF path, or the --model_alias; no created, root or parent.
    ("llamacpp_default_v1_models", [vllm.Card("/tmp/gguf/tiny-llama.gguf", None, None, "me")]),
    ("llamacpp_alias_v1_models", [vllm.Card("tiny-llama", None, None, "me")]),
    ("llamacpp_multi_v1_models", [vllm.Card("tiny-llama", None, None, "me"),
                                  vllm.Card("tiny-alias", None, None, "me")]),
])
def test_recorded_lists_are_read(name, expected):
    assert cards(name) == expected


@pytest.mark.unit
def test_cards_without_root_are_matched_by_their_ids():
    listed = cards("litellm_nokey_v1_models")
    row = matching.Row(id="00000000-0000-4000-8000-000000000001", name=None, provider="vllm", covered=True,
                       base_url="http://proxy:4000", model_id=None, served_model_name="qwen-alias", base_model=None,
                       replaceable=True, placeholder=True)
    card, how = matching.match_row(row, listed)
    assert (card.id, how) == ("qwen-alias", "served_model_name")
    # Without an id of its own, a row is not guessed among several models that share no root.
    nameless = matching.Row(**{**row.__dict__, "served_model_name": None})
    assert matching.match_row(nameless, listed)[0] is None
    # One model: the server's only base model, named by its id.
    only = cards("llamacpp_default_v1_models")
    card, how = matching.match_row(nameless, only)
    assert served_models.card_name(card) == "tiny-llama.gguf" and how == "the server's only base model"


HOW = "give it with --api-key-env {url}=VAR or --api-key-file {url}=PATH"


@pytest.mark.parametrize("name, says", [
    ("litellm_masterkey_v1_models_no_key", "HTTP 401 Unauthorized: the server needs an API key: " + HOW),
    ("litellm_masterkey_v1_models_wrong_key",
     "HTTP 400: No connected db. (a LiteLLM proxy refusing the key): the server needs an API key: " + HOW),
    ("litellm_masterkey_noprisma_v1_models_no_key",
     "HTTP 500 server error, with no API key sent (a LiteLLM proxy that needs its key answers so): "
     "the server needs an API key: " + HOW),
    ("llamacpp_apikey_v1_models_no_key", "HTTP 401 Unauthorized: the server needs an API key: " + HOW),
    ("llamacpp_apikey_v1_models_wrong_key", "HTTP 401 Unauthorized: the server needs an API key: " + HOW),
])
def test_recorded_refusals_without_a_key_say_a_key_is_needed_and_how(vllm_servers, name, says):
    server = vllm_servers().serve(f"openai_compatible/{name}")
    result = vllm.fetch_all([vllm.Endpoint(server.url, named=True)], {}, 3)[0]
    assert not result.ok and result.error == says.format(url=server.url)
    assert result.needs_key


@pytest.mark.parametrize("name, says", [
    ("litellm_masterkey_v1_models_wrong_key", "HTTP 400: No connected db. (a LiteLLM proxy refusing the key): "
     "the API key is wrong: without a database it accepts only its master key"),
    ("llamacpp_apikey_v1_models_wrong_key", "HTTP 401 Unauthorized: the API key is wrong (the key given for {url})"),
])
def test_recorded_refusals_of_a_key_say_it_is_wrong(vllm_servers, name, says):
    server = vllm_servers().serve(f"openai_compatible/{name}")
    result = vllm.fetch_all([vllm.Endpoint(server.url, named=True)], {server.url: "sk-wrong-key"}, 3)[0]
    assert result.error == says.format(url=server.url) and not result.needs_key
    assert "sk-wrong-key" not in result.error


def test_a_server_error_with_its_reason_is_not_taken_for_a_missing_key(vllm_servers):
    server = vllm_servers().serve("engine_dead_500")  # vLLM's own 500 says why
    result = vllm.fetch_all([vllm.Endpoint(server.url, named=True)], {}, 3)[0]
    assert result.error.startswith("HTTP 500 server error: EngineCore") and "API key" not in result.error
    assert not result.needs_key


def test_backfill_names_rows_of_a_litellm_proxy(installed_db, vllm_servers):
    server = vllm_servers().serve("openai_compatible/litellm_nokey_v1_models")
    alias = add_model(installed_db, base_url=server.url, served="qwen-alias")
    llama = add_model(installed_db, base_url=server.url, model_id="llama-3.1-8b")
    result = installed_db.cli("backfill")
    assert result.code == 0, result.err + result.out
    names = dict(installed_db.query("SELECT id::text, name FROM llm_models"))
    assert names[alias] == "qwen-alias" and names[llama] == "llama-3.1-8b"


def test_a_litellm_proxy_that_wants_its_key_says_so_and_the_fix_runs_as_printed(installed_db, vllm_servers,
                                                                                 monkeypatch):
    """The proxy as recorded with a master key and no prisma: its models with the key, a bare 500 without."""
    master = "sk-pgmodelnames-test-0000"  # the made-up key of the recordings

    def proxy(request: Request) -> Response:
        if request.headers.get("Authorization") == f"Bearer {master}":
            return recording("openai_compatible/litellm_masterkey_v1_models_good_key")
        return recording("openai_compatible/litellm_masterkey_noprisma_v1_models_no_key")

    server = vllm_servers()
    server.http.expect_request("/v1/models").respond_with_handler(proxy)
    model = add_model(installed_db, base_url=server.url, served="qwen-alias")
    found = installed_db.cli("backfill")
    assert found.code == 0, found.err
    failed = next(line for line in found.out.splitlines() if line.startswith(f"  FAILED  {server.url}"))
    assert failed.endswith("HTTP 500 server error, with no API key sent (a LiteLLM proxy that needs its key answers "
                           "so): the server needs an API key, and keys are sent only to servers named with --endpoint: "
                           f"name this one with --endpoint {server.url} and give its key with "
                           f"--api-key-env {server.url}=VAR")
    fix = f"pgmodelnames backfill --endpoint {server.url} --api-key-env {server.url}=VLLM_API_KEY"
    assert f"  fix: {server.url}: name it with its key: {fix} (the variable that holds its key; " in found.out
    monkeypatch.setenv("VLLM_API_KEY", master)
    named = installed_db.cli(*fix.split()[1:])
    assert named.code == 0, named.out + named.err
    assert installed_db.value("SELECT name FROM llm_models WHERE id = %s", (model,)) == "qwen-alias"
    assert master not in found.out + named.out + named.err
