"""Nothing from the database or a server reaches the operator's terminal raw:
control (ESC starts an escape sequence that can retitle the window, rewrite
the screen or, in some terminals, write files), C1, bidi and tag characters
are shown escaped in text and in JSON; a served id holding them is not
stored."""

from __future__ import annotations

import json
import uuid

import pytest

from pgmodelnames import names, served_models
from support import add_model

HOSTILE = "\x1b]0;owned\x07\x1b[2J\x9b31m\u202eevil\u2066\U000e0041\r"
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\u2066", "\U000e0041", "\r")


def raw_in(text: str) -> list[str]:
    return [ch for ch in RAW if ch in text]


@pytest.mark.unit
@pytest.mark.parametrize("text, shown", [
    ("\x1b[31m", "\\x1b[31m"), ("a\rb", "a\\x0db"), ("\x9b", "\\x9b"), ("\x7f", "\\x7f"),
    ("\u202eabc", "\\u202eabc"), ("\u2066x\u2069", "\\u2066x\\u2069"), ("\U000e0041", "\\U000e0041"),
    ("line\n\ttab", "line\n\ttab"), ("Llama 3.1 8B — ünïcode", "Llama 3.1 8B — ünïcode"),
])
def test_terminal_safe(text, shown):
    assert names.terminal_safe(text) == shown


@pytest.mark.unit
def test_json_safe_keeps_the_document_and_escapes_the_rest():
    document = {"provider": HOSTILE, "name": "ünïcode"}
    written = names.json_safe(json.dumps(document, ensure_ascii=False))
    assert raw_in(written) == []
    assert "ünïcode" in written
    assert json.loads(written) == document


@pytest.mark.unit
@pytest.mark.parametrize("served", ["tiny\x1b[2J", "tiny\u202ellama", "tiny\U000e0041", "tiny\x9b"])
def test_a_served_id_with_hidden_characters_is_not_stored(served):
    assert "control, invisible or text-direction" in served_models.unstorable(served)


def test_doctor_shows_hostile_message_fields_escaped(installed_supabase):
    db = installed_supabase
    db.execute("INSERT INTO public.messages (model_id, provider) VALUES (%s, %s), (%s, 'vllm')",
               (f"gpt-{HOSTILE}", HOSTILE, HOSTILE))
    text = db.cli("doctor")
    assert raw_in(text.out + text.err) == []
    assert "\\x1b]0;owned\\x07" in text.out
    document = db.cli("doctor", "--json")
    assert raw_in(document.out) == []
    ids = [e["model_id"] for u in json.loads(document.out)["unknown_model_ids"] for e in u["examples"]]
    assert f"gpt-{HOSTILE}".rstrip("\r") in ids  # the data itself is reported (trimmed), just escaped


def test_a_hostile_server_gets_nothing_stored_and_nothing_raw_printed(installed_db, vllm_servers):
    hostile = vllm_servers()
    body = {"object": "list", "data": [
        {"id": f"tiny{HOSTILE}", "object": "model", "owned_by": "vllm", "root": "/m", "parent": None},
        {"id": "tiny-llama", "object": "model", "owned_by": f"vllm{HOSTILE}", "root": f"/m{HOSTILE}",
         "parent": None}]}
    hostile.http.expect_request("/v1/models").respond_with_json(body)
    model = add_model(installed_db, str(uuid.uuid4()), None, base_url=hostile.url)
    for argv in (("--endpoint", hostile.url), ("--endpoint", hostile.url, "--json")):
        result = installed_db.cli("backfill", *argv)
        assert raw_in(result.out + result.err) == [], result.out
    stored = installed_db.query("SELECT coalesce(name, ''), coalesce(model_id, '') FROM public.llm_models")
    assert all(raw_in(value) == [] for row in stored for value in row)
    # The hostile id was skipped; the one clean card (its other fields hostile) named the row.
    assert installed_db.value("SELECT model_id FROM public.llm_models WHERE id = %s", (model,)) == "tiny-llama"
