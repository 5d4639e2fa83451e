"""Recorded vLLM 0.32 answers served by real local HTTP servers: recording(),
VllmServer and the vllm_servers fixture (a pytest plugin, registered in conftest.py).

The recordings are fixtures/vllm/ and, for other OpenAI-compatible servers,
fixtures/openai_compatible/ (their READMEs say how they were captured):
NAME.headers.txt holds the status line and headers, NAME.json the body as received.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

FIXTURES = Path(__file__).parent / "fixtures"
RECORDINGS = FIXTURES / "vllm"
KEY = "sekret"  # the key the recorded --api-key server was started with


def recording(name: str) -> Response:
    """A recorded response: status line and headers from NAME.headers.txt, the body as received.
    NAME is a vLLM recording, or FOLDER/NAME under fixtures/ for another server's."""
    where = FIXTURES / name if "/" in name else RECORDINGS / name
    head = where.with_name(where.name + ".headers.txt").read_text().splitlines()
    status = int(head[0].split()[1])
    headers = {}
    for line in head[1:]:
        if ":" in line:
            key, _, value = line.partition(":")
            if key.lower() not in ("date", "server", "content-length", "transfer-encoding"):
                headers[key.strip()] = value.strip()
    body_file = where.with_name(where.name + ".json")
    body = body_file.read_bytes() if body_file.exists() else b""
    return Response(body, status=status, headers=headers)


class VllmServer:
    """One local HTTP server standing in for a vLLM server (threaded, so a
    sleeping handler does not block other requests)."""

    def __init__(self) -> None:
        self.http = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.http.start()
        self.release = threading.Event()  # ends any sleeping handler at teardown
        self.lock = threading.Lock()
        self.sleeping = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http.port}"

    def serve(self, name: str) -> "VllmServer":
        """Answer GET /v1/models with a recording."""
        self.http.expect_request("/v1/models", method="GET").respond_with_response(recording(name))
        return self

    def serve_models(self, cards: list[dict]) -> "VllmServer":
        """Answer with a vLLM-shaped list of the given cards (for ids no recording has)."""
        data = [{"id": c["id"], "object": "model", "created": 1795798176, "owned_by": "vllm",
                 "root": c.get("root", c["id"]), "parent": c.get("parent"), "max_model_len": 128,
                 "permission": []} for c in cards]
        body = json.dumps({"object": "list", "data": data})
        self.http.expect_request("/v1/models").respond_with_data(body, content_type="application/json")
        return self

    def serve_with_key(self, key: str = KEY) -> "VllmServer":
        """Like vLLM's --api-key: 401 {"error":"Unauthorized"} unless "Bearer <key>" (scheme case-insensitive)."""
        def handler(request: Request) -> Response:
            scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
            if scheme.lower() == "bearer" and token == key:
                return recording("d_apikey_v1_models_good_key")
            return recording("d_apikey_v1_models_no_key")
        self.http.expect_request("/v1/models").respond_with_handler(handler)
        return self

    def serve_slowly(self, seconds: float, name: str = "b1_served_name_v1_models") -> "VllmServer":
        release = self.release

        def handler(request: Request) -> Response:
            with self.lock:
                self.sleeping += 1
            try:
                release.wait(seconds)
            finally:
                with self.lock:
                    self.sleeping -= 1
            return recording(name)
        self.http.expect_request("/v1/models").respond_with_handler(handler)
        return self

    def requests(self) -> list[Request]:
        return [request for request, _ in self.http.log]

    def reset(self) -> None:
        """Forget handlers and requests (servers are reused: stopping one costs 0.5 s)."""
        self.release.set()
        deadline = time.monotonic() + 3
        while self.sleeping and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.02 if self.http.log else 0)  # a released handler's request is logged just after it returns
        self.http.clear()
        self.release = threading.Event()

    def stop(self) -> None:
        self.release.set()
        if self.http.is_running():
            self.http.stop()


@pytest.fixture(scope="session")
def vllm_server_pool():
    pool: list[VllmServer] = []
    yield pool
    for server in pool:
        server.stop()


@pytest.fixture
def vllm_servers(vllm_server_pool):
    """vllm_servers() -> a VllmServer with no handlers yet, reset after the test."""
    used = 0

    def make() -> VllmServer:
        nonlocal used
        if used == len(vllm_server_pool):
            vllm_server_pool.append(VllmServer())
        server = vllm_server_pool[used]
        used += 1
        return server

    yield make
    for server in vllm_server_pool[:used]:
        server.reset()
