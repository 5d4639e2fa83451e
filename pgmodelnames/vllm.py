"""Ask vLLM (and other OpenAI-compatible) servers which models they serve:
GET <base>/v1/models, all at once.

Everything a server sends is untrusted data: the body is capped, redirects
are never followed and the JSON shape is checked. The client returns what
the servers said; what can be stored and how a name is cleaned is the
planner's business (matching.py). An endpoint's API key goes only to that
endpoint, and only when the operator named it (Endpoint.named); it never
appears in a message. The client knows nothing of the database.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Mapping

import httpx

from pgmodelnames import __version__
from pgmodelnames.errors import one_line
from pgmodelnames.names import clean_text

MODELS_PATH = "/v1/models"  # exactly: vLLM answers /v1/models/ with a 307 redirect
MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_CARDS = 10_000
_JOIN_GRACE = 0.5  # seconds past the timeout before an endpoint is given up (a hung DNS lookup)


class EndpointError(ValueError):
    """A URL that is not an acceptable vLLM endpoint."""


@dataclass(frozen=True)
class Endpoint:
    url: str  # normalised base URL, e.g. http://gpu1:8000 (no /v1)
    named: bool  # given with --endpoint: the only kind that may receive an API key
    raw: str = ""  # as the user typed it or as llm_models.base_url holds it

    @property
    def models_url(self) -> str:
        return self.url + MODELS_PATH


@dataclass(frozen=True)
class Card:
    """One entry of a server's model list."""

    id: str  # the served model name: what a client puts in "model"
    root: str | None  # vLLM: the model path (base) or adapter path (LoRA); SGLang: the served name
    parent: str | None  # vLLM: the base model's served name for a LoRA adapter, else None
    owned_by: str | None = None  # "vllm", "openai", "system"...; TGI puts its model id here

    @property
    def is_adapter(self) -> bool:
        return self.parent is not None

    @property
    def reference(self) -> str | None:
        """What the model was started from, to match an llm_models.model_id
        against: vLLM's root (the --model path), else an owned_by that names
        a model rather than an owner (TGI sends its --model-id there, e.g.
        "meta-llama/Llama-3.1-8B-Instruct"; owners such as "vllm",
        "openai" or "library" have no slash). None when the server says
        nothing beyond the id."""
        if self.root is not None:
            return self.root
        if self.owned_by is not None and "/" in self.owned_by:
            return self.owned_by
        return None


@dataclass
class Result:
    endpoint: Endpoint
    cards: list[Card] = field(default_factory=list)
    error: str | None = None  # why this endpoint gave no list; None = answered
    seconds: float = 0.0
    needs_key: bool = False  # refused, and no key was sent: it may want one

    @property
    def ok(self) -> bool:
        return self.error is None


class FetchError(Exception):
    """One endpoint's failure, as a message fit to print (no secrets)."""

    def __init__(self, message: str, needs_key: bool = False) -> None:
        super().__init__(message)
        self.needs_key = needs_key


def normalize_endpoint(raw: str) -> str:
    """http://host:8000, http://host:8000/v1, .../v1/models, with or without a
    trailing slash -> http://host:8000. Only http and https; no credentials,
    query or fragment in the URL."""
    text = (raw or "").strip()
    if not text:
        raise EndpointError("empty URL")
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise EndpointError("not a valid URL") from None
    if url.scheme not in ("http", "https"):
        raise EndpointError("only http:// and https:// URLs are accepted (e.g. http://host:8000)")
    if not url.host:
        raise EndpointError("the URL has no host")
    if url.userinfo:
        raise EndpointError("credentials in the URL are not accepted (give a key with --api-key-env URL=VAR)")
    if url.query or url.fragment:
        raise EndpointError("a query string or fragment is not expected in a vLLM base URL")
    path = url.path.rstrip("/")
    for suffix in (MODELS_PATH, "/v1"):
        if path.endswith(suffix):
            path = path[: -len(suffix)].rstrip("/")
            break
    host = f"[{url.host}]" if ":" in url.host else url.host
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{host}{port}{path}"


def describe_url(raw: str, limit: int = 80) -> str:
    """A URL from the database as it may be printed: one line, bounded, no password."""
    from pgmodelnames.config import redact

    text = "".join(ch if ch.isprintable() else "?" for ch in (raw or ""))
    text = redact(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fetch_all(endpoints: list[Endpoint], keys: Mapping[str, str], timeout: float) -> list[Result]:
    """Query every endpoint concurrently; returns one Result per endpoint, in order.

    keys: normalised endpoint URL -> its API key; a key is sent to that
    endpoint only, and only if it was named with --endpoint. Each endpoint
    runs in its own daemon thread with its own deadline, so a slow or hung
    server costs at most `timeout` (plus a short grace) and never delays the
    answers of the others."""
    results: list[Result | None] = [None] * len(endpoints)

    def work(index: int, endpoint: Endpoint) -> None:
        results[index] = fetch(endpoint, keys.get(endpoint.url) if endpoint.named else None, timeout)

    threads = []
    started = time.monotonic()
    for index, endpoint in enumerate(endpoints):
        thread = threading.Thread(target=work, args=(index, endpoint), daemon=True,
                                  name=f"pgmodelnames-fetch-{index}")
        thread.start()
        threads.append(thread)
    deadline = started + timeout + _JOIN_GRACE
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [
        result if result is not None
        else Result(endpoint, error=f"timed out after {timeout:g} s (no answer)", seconds=time.monotonic() - started)
        for endpoint, result in zip(endpoints, results)
    ]


def fetch(endpoint: Endpoint, api_key: str | None, timeout: float) -> Result:
    """GET <base>/v1/models on one endpoint. Never raises."""
    started = time.monotonic()
    result = Result(endpoint)
    try:
        body = _get(endpoint, api_key, timeout)
        result.cards = parse_models(body)
    except FetchError as exc:
        result.error = str(exc)
        result.needs_key = exc.needs_key
    except Exception as exc:  # anything unforeseen is one endpoint's failure, not the run's
        result.error = f"unexpected error ({type(exc).__name__})"
    result.seconds = time.monotonic() - started
    return result


def _get(endpoint: Endpoint, api_key: str | None, timeout: float) -> bytes:
    headers = {"Accept": "application/json", "User-Agent": f"pgmodelnames/{__version__}"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    deadline = time.monotonic() + timeout
    # trust_env=False: no proxy variables and no ~/.netrc credentials are
    # applied to URLs that users chose; follow_redirects=False: a redirect
    # never carries the key (or the request) anywhere else.
    try:
        with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False) as client:
            with client.stream("GET", endpoint.models_url, headers=headers) as response:
                _check_status(response, endpoint, api_key is not None)
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
                    raise FetchError(_too_large())
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_BODY_BYTES:
                        raise FetchError(_too_large())
                    if time.monotonic() > deadline:
                        raise FetchError(f"timed out after {timeout:g} s (the answer came too slowly)")
                    chunks.append(chunk)
                return b"".join(chunks)
    except FetchError:
        raise
    except httpx.TimeoutException:
        raise FetchError(f"timed out after {timeout:g} s") from None
    except httpx.ConnectError as exc:
        raise FetchError(_connect_reason(exc)) from None
    except httpx.DecodingError:
        raise FetchError("the answer could not be decoded (bad content encoding)") from None
    except httpx.TooManyRedirects:
        raise FetchError("redirect (not followed)") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"HTTP error: {type(exc).__name__}") from None


def _too_large() -> str:
    return f"the answer is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB: stopped reading (not a vLLM model list?)"


def _key_hint(endpoint: Endpoint, sent_key: bool) -> str:
    """What to do about a refusal that may be about the key."""
    url = endpoint.url
    if sent_key:
        return f"the API key is wrong (the key given for {url})"
    if endpoint.named:
        return f"the server needs an API key: give it with --api-key-env {url}=VAR or --api-key-file {url}=PATH"
    return ("the server needs an API key, and keys are sent only to servers named with --endpoint: "
            f"name this one with --endpoint {url} and give its key with --api-key-env {url}=VAR")


def _check_status(response: httpx.Response, endpoint: Endpoint, sent_key: bool) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    if 300 <= status < 400:
        location = response.headers.get("location", "")
        target = f" to {describe_url(location)}" if location else ""
        raise FetchError(f"HTTP {status} redirect{target}: not followed (give the final URL; "
                         "pgmodelnames requests exactly /v1/models and never follows redirects)")
    if status in (401, 403):
        raise FetchError(f"HTTP {status} {'Unauthorized' if status == 401 else 'Forbidden'}: "
                         f"{_key_hint(endpoint, sent_key)}", needs_key=not sent_key)
    if status == 404:
        raise FetchError("HTTP 404 Not Found at /v1/models: not a vLLM (OpenAI-compatible) server, "
                         "or the URL has a wrong path")
    message, kind = _error_body(response)
    detail = f": {message}" if message else ""
    # A LiteLLM proxy without a database cannot check keys: it answers 400
    # "No connected db." to a key other than its master key (and to none),
    # and a plain 500 to a request without a key when its auth handler fails.
    if status == 400 and (kind == "no_db_connection" or message == "No connected db."):
        raise FetchError(f"HTTP 400{detail} (a LiteLLM proxy refusing the key): "
                         + ("the API key is wrong: without a database it accepts only its master key"
                            if sent_key else _key_hint(endpoint, False)), needs_key=not sent_key)
    if status >= 500 and not message and not sent_key:
        raise FetchError(f"HTTP {status} server error, with no API key sent (a LiteLLM proxy that needs its key "
                         f"answers so): {_key_hint(endpoint, False)}", needs_key=True)
    if status >= 500:
        raise FetchError(f"HTTP {status} server error{detail}")
    raise FetchError(f"HTTP {status}{detail}")


def _error_body(response: httpx.Response) -> tuple[str | None, str | None]:
    """(message, type) of an OpenAI-style error body, short and printable, if any."""
    try:
        raw = b""
        for chunk in response.iter_bytes():
            raw += chunk
            if len(raw) > 16384:
                return None, None
        doc = json.loads(raw)
    except Exception:
        return None, None
    error = doc.get("error") if isinstance(doc, dict) else None
    message = error.get("message") if isinstance(error, dict) else error
    kind = error.get("type") if isinstance(error, dict) else None
    if not isinstance(message, str) or not message.strip():
        message = None
    else:
        message = clean_text(one_line(message), 160)
    return message, kind if isinstance(kind, str) else None


def _connect_reason(exc: BaseException) -> str:
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, socket.gaierror):
            return "DNS failure: the host name does not resolve"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused: nothing listens on that host and port (is vLLM running?)"
        cause = cause.__cause__ or cause.__context__
    text = str(exc).lower()
    if "name or service not known" in text or "nodename nor servname" in text or "name resolution" in text \
            or "getaddrinfo" in text or "no address associated" in text:
        return "DNS failure: the host name does not resolve"
    if "refused" in text:
        return "connection refused: nothing listens on that host and port (is vLLM running?)"
    if "ssl" in text or "certificate" in text:
        return "TLS error: the certificate or handshake was refused"
    return "cannot connect (network unreachable or connection reset)"


def parse_models(body: bytes) -> list[Card]:
    """{"object": "list", "data": [card, ...]} -> cards in the server's order,
    one per id. vLLM sends every field; other OpenAI-compatible servers
    differ: SGLang's root is the served name itself (not a weights path),
    TGI sends its model id as owned_by (and older TGI the one card without
    the list around it), LiteLLM, llama.cpp and Ollama little beyond "id"
    (root and parent missing). Missing fields stay None."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise FetchError("the answer is not valid JSON (not a vLLM server?)") from None
    shape = 'expected {"object": "list", "data": [...]}'
    if not isinstance(doc, dict):
        raise FetchError(f"the answer is JSON of the wrong shape: a {_json_type(doc)}, {shape}")
    if doc.get("object") == "model" and "data" not in doc:
        doc = {"object": "list", "data": [doc]}  # older TGI: the one model card itself, not a list
    if "object" in doc and doc["object"] != "list":
        raise FetchError(f'the answer is JSON of the wrong shape: "object" is not "list", {shape}')
    data = doc.get("data")
    if not isinstance(data, list):
        raise FetchError(f'the answer is JSON of the wrong shape: no "data" list, {shape}')
    if not data:
        raise FetchError("the server lists no models (empty list)")
    if len(data) > MAX_CARDS:
        raise FetchError(f"the server lists {len(data)} models: more than {MAX_CARDS}, not a vLLM server?")
    cards: list[Card] = []
    seen: set[str] = set()
    for position, item in enumerate(data, 1):
        if not isinstance(item, dict):
            raise FetchError(f"the answer is JSON of the wrong shape: model {position} is a {_json_type(item)}")
        card_id = item.get("id")
        if not isinstance(card_id, str) or not card_id.strip():
            raise FetchError(f'the answer is JSON of the wrong shape: model {position} has no "id" string')
        for key in ("root", "parent", "owned_by"):
            if item.get(key) is not None and not isinstance(item.get(key), str):
                raise FetchError(f'the answer is JSON of the wrong shape: model {position} has a non-string "{key}"')
        if card_id in seen:
            continue
        seen.add(card_id)
        cards.append(Card(card_id, item.get("root") or None, item.get("parent") or None, item.get("owned_by") or None))
    return cards


def _json_type(value: object) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number")
