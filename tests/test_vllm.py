"""The vLLM client against a real local HTTP server serving recorded vLLM 0.32 answers
(recorded_vllm.py serves them)."""

from __future__ import annotations

import time

import pytest
from werkzeug import Response

from pgmodelnames import served_models, vllm
from recorded_vllm import KEY, recording
from support import closed_port


def fetch(url: str, key: str | None = None, named: bool = True, timeout: float = 3.0) -> vllm.Result:
    endpoint = vllm.Endpoint(vllm.normalize_endpoint(url), named=named, raw=url)
    return vllm.fetch_all([endpoint], {endpoint.url: key} if key else {}, timeout)[0]


# ----------------------------------------------------------------- URLs

@pytest.mark.parametrize("given", [
    "http://gpu1:8000", "http://gpu1:8000/", "http://gpu1:8000/v1", "http://gpu1:8000/v1/",
    "http://gpu1:8000/v1/models", " HTTP://GPU1:8000/v1 ",
])
def test_normalize_accepts_the_forms_users_paste(given):
    assert vllm.normalize_endpoint(given) == "http://gpu1:8000"


def test_normalize_keeps_a_proxy_prefix_https_and_ipv6():
    assert vllm.normalize_endpoint("https://llm.example.com/vllm/v1/") == "https://llm.example.com/vllm"
    assert vllm.normalize_endpoint("http://[::1]:8000/v1") == "http://[::1]:8000"
    assert vllm.normalize_endpoint("http://gpu1:80/v1") == "http://gpu1"  # the default port says nothing


@pytest.mark.parametrize("given, reason", [
    ("ftp://gpu1/v1", "only http:// and https://"),
    ("file:///etc/passwd", "only http:// and https://"),
    ("gpu1:8000", "only http:// and https://"),
    ("javascript:alert(1)", "only http:// and https://"),
    ("http://user:pw@gpu1:8000", "credentials"),
    ("http://gpu1:8000/v1?key=x", "query string"),
    ("", "empty"),
    ("http://", "no host"),
])
def test_normalize_refuses_other_urls(given, reason):
    with pytest.raises(vllm.EndpointError, match=reason):
        vllm.normalize_endpoint(given)


# ----------------------------------------------------------------- recorded answers

def test_default_model_is_listed_by_its_path(vllm_servers):
    server = vllm_servers().serve("a_default_v1_models")
    result = fetch(server.url + "/v1/")  # a pasted form: still GET exactly /v1/models
    assert result.ok, result.error
    assert result.cards == [vllm.Card("/tmp/tiny-llama", "/tmp/tiny-llama", None, owned_by="vllm")]
    assert [r.path for r in server.requests()] == ["/v1/models"]
    assert server.requests()[0].method == "GET"


@pytest.mark.parametrize("name, expected", [
    ("b1_served_name_v1_models", [vllm.Card("tiny-llama", "/tmp/tiny-llama", None, "vllm")]),
    ("b2_two_names_v1_models", [vllm.Card("tiny-llama", "/tmp/tiny-llama", None, "vllm"),
                                vllm.Card("tiny-alias", "/tmp/tiny-llama", None, "vllm")]),
    ("c0_lora_default_name_v1_models", [vllm.Card("/tmp/tiny-llama", "/tmp/tiny-llama", None, "vllm"),
                                        vllm.Card("my-adapter", "/tmp/tiny-lora", "/tmp/tiny-llama", "vllm")]),
    ("c1_lora_v1_models", [vllm.Card("tiny-llama", "/tmp/tiny-llama", None, "vllm"),
                           vllm.Card("my-adapter", "/tmp/tiny-lora", "tiny-llama", "vllm")]),
])
def test_recorded_model_lists(vllm_servers, name, expected):
    result = fetch(vllm_servers().serve(name).url)
    assert result.ok and result.cards == expected
    assert served_models.screen(result) == (result, [])  # nothing a real vLLM sends is set aside


def test_lora_parents_follow_vllm(vllm_servers):
    result = fetch(vllm_servers().serve("c2_lora_multi_v1_models").url)
    parents = {card.id: card.parent for card in result.cards}
    assert parents == {"tiny-llama": None, "tiny-alias": None, "my-adapter": "tiny-llama",
                       "json-adapter": "tiny-alias", "json-badbase": "tiny-llama"}
    assert [card.is_adapter for card in result.cards] == [False, False, True, True, True]


def test_api_key_server_answers_with_the_right_bearer_token(vllm_servers):
    server = vllm_servers().serve_with_key()
    result = fetch(server.url, key=KEY)
    assert result.ok and [card.id for card in result.cards] == ["tiny-llama"]
    assert server.requests()[0].headers["Authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("key, named, says, needs_key", [
    (None, True, "the server needs an API key: give it with --api-key-env {url}=VAR or --api-key-file {url}=PATH",
     True),
    ("wrong", True, "the API key is wrong (the key given for {url})", False),
    # a discovered server never gets the key
    (KEY, False, "name this one with --endpoint {url} and give its key with --api-key-env {url}=VAR", True),
])
def test_401_says_what_is_wrong_with_the_key(vllm_servers, key, named, says, needs_key):
    server = vllm_servers().serve_with_key()
    result = fetch(server.url, key=key, named=named)
    assert not result.ok and result.needs_key is needs_key
    assert result.error.startswith("HTTP 401 Unauthorized: ") and says.format(url=server.url) in result.error
    assert KEY not in result.error
    if not named:
        assert "Authorization" not in server.requests()[0].headers


def test_403_is_a_key_problem_too(vllm_servers):
    server = vllm_servers()
    server.http.expect_request("/v1/models").respond_with_json({"error": "Forbidden"}, status=403)
    result = fetch(server.url, key="k")
    assert result.error.startswith("HTTP 403 Forbidden") and "key is wrong" in result.error


# ----------------------------------------------------------------- broken servers

def test_connection_refused():
    result = fetch(f"http://127.0.0.1:{closed_port()}")
    assert result.error.startswith("connection refused")


def test_dns_failure():
    result = fetch("http://does-not-exist.invalid:8000")
    assert result.error.startswith("DNS failure")


def test_timeout_is_bounded(vllm_servers):
    server = vllm_servers().serve_slowly(5)
    started = time.monotonic()
    result = fetch(server.url, timeout=0.4)
    assert result.error.startswith("timed out after 0.4 s")
    assert time.monotonic() - started < 1.5


def test_404_is_not_a_vllm_server(vllm_servers):
    server = vllm_servers()
    server.http.expect_request("/v1/models").respond_with_response(recording("a_default_404"))
    result = fetch(server.url)
    assert result.error.startswith("HTTP 404 Not Found") and "not a vLLM" in result.error


def test_500_reports_vllms_message(vllm_servers):
    server = vllm_servers()
    server.http.expect_request("/v1/models").respond_with_response(recording("engine_dead_500"))
    result = fetch(server.url)
    assert result.error.startswith("HTTP 500 server error: EngineCore encountered an issue")


@pytest.mark.parametrize("body, says", [
    (b"<html>hello</html>", "not valid JSON"),
    (b'{"object":"list","data":[', "not valid JSON"),
    (b"\xff\xfe garbage", "not valid JSON"),
    (b"[1, 2]", "wrong shape: a list"),
    (b'{"object":"error","data":[]}', '"object" is not "list"'),
    (b'{"object":"list"}', 'no "data" list'),
    (b'{"object":"list","data":{"id":"x"}}', 'no "data" list'),
    (b'{"object":"list","data":["x"]}', "model 1 is a string"),
    (b'{"object":"list","data":[{"root":"x"}]}', 'model 1 has no "id" string'),
    (b'{"object":"list","data":[{"id":42}]}', 'model 1 has no "id" string'),
    (b'{"object":"list","data":[{"id":"a","parent":7}]}', 'non-string "parent"'),
    (b'{"object":"list","data":[]}', "no models (empty list)"),
])
def test_bad_bodies(vllm_servers, body, says):
    server = vllm_servers()
    server.http.expect_request("/v1/models").respond_with_data(body, content_type="application/json")
    result = fetch(server.url)
    assert not result.ok and says in result.error and result.cards == []


def test_huge_body_with_content_length_is_refused(vllm_servers):
    server = vllm_servers()
    server.http.expect_request("/v1/models").respond_with_data(b" " * (vllm.MAX_BODY_BYTES + 1))
    result = fetch(server.url)
    assert "larger than 4 MiB" in result.error


def test_huge_streamed_body_stops_at_the_cap(vllm_servers):
    sent = []

    def endless():
        for _ in range(10_000):  # 640 MiB if it were all read
            sent.append(1)
            yield b'{"object":"list","data":[' + b" " * 65536

    server = vllm_servers()
    server.http.expect_request("/v1/models").respond_with_response(Response(endless(), mimetype="application/json"))
    started = time.monotonic()
    result = fetch(server.url, timeout=5)
    assert "larger than 4 MiB" in result.error
    assert time.monotonic() - started < 3
    assert len(sent) < 1000


def test_redirect_to_another_host_is_not_followed(vllm_servers):
    target = vllm_servers().serve("b1_served_name_v1_models")
    server = vllm_servers()
    server.http.expect_request("/v1/models").respond_with_response(
        Response(b"", status=307, headers={"location": target.url + "/v1/models"}))
    result = fetch(server.url, key=KEY)
    assert result.error.startswith("HTTP 307 redirect to " + target.url) and "not followed" in result.error
    assert target.requests() == []  # neither the request nor the key went there


# ----------------------------------------------------------------- concurrency and the key

def test_endpoints_are_asked_concurrently(vllm_servers):
    slow = [vllm_servers().serve_slowly(0.8) for _ in range(3)]
    endpoints = [vllm.Endpoint(s.url, named=True) for s in slow]
    started = time.monotonic()
    results = vllm.fetch_all(endpoints, {}, 5)
    elapsed = time.monotonic() - started
    assert all(r.ok for r in results)
    assert elapsed < 2.0, f"{elapsed:.2f} s: not concurrent (sequential would take 2.4 s)"


def test_a_hung_server_does_not_delay_the_others(vllm_servers):
    hung = vllm_servers().serve_slowly(10)
    fast = vllm_servers().serve("b1_served_name_v1_models")
    started = time.monotonic()
    results = vllm.fetch_all([vllm.Endpoint(hung.url, True), vllm.Endpoint(fast.url, True)], {}, 0.5)
    assert time.monotonic() - started < 1.5
    assert results[0].error.startswith("timed out") and results[1].ok
    assert results[1].seconds < 0.5


def test_key_goes_only_to_named_endpoints(vllm_servers):
    named, found = vllm_servers().serve_with_key(), vllm_servers().serve_with_key()
    keys = {named.url: KEY, found.url: KEY}  # even a key given for it: a found server is never sent one
    results = vllm.fetch_all([vllm.Endpoint(named.url, True), vllm.Endpoint(found.url, False)], keys, 3)
    assert results[0].ok and not results[1].ok
    assert named.requests()[0].headers.get("Authorization") == f"Bearer {KEY}"
    assert "Authorization" not in found.requests()[0].headers


def test_each_endpoint_gets_its_own_key_and_no_other(vllm_servers):
    one, two, keyless = (vllm_servers().serve_with_key("key-one"), vllm_servers().serve_with_key("key-two"),
                         vllm_servers().serve("b1_served_name_v1_models"))
    endpoints = [vllm.Endpoint(server.url, True) for server in (one, two, keyless)]
    results = vllm.fetch_all(endpoints, {one.url: "key-one", two.url: "key-two"}, 3)
    assert [result.ok for result in results] == [True, True, True]
    assert [[r.headers.get("Authorization") for r in server.requests()] for server in (one, two, keyless)] == [
        ["Bearer key-one"], ["Bearer key-two"], [None]]


def test_recorded_307_is_reported_not_followed(vllm_servers):
    """vLLM's own redirect (it answers /v1/models/ with 307): replayed at /v1/models, it is never followed."""
    server = vllm_servers()
    server.http.expect_request("/v1/models").respond_with_response(recording("a_default_v1_models_trailing_slash"))
    result = fetch(server.url, key=KEY)
    assert result.error.startswith("HTTP 307 redirect to http://127.0.0.1:8011/v1/models: not followed")
    assert len(server.requests()) == 1
