"""pgmodelnames backfill against real PostgreSQL (both fixture schemas) and
local HTTP servers serving recorded vLLM 0.32 answers."""

from __future__ import annotations

import json
import re
import os
import queue
import shlex
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from werkzeug import Request, Response

from recorded_vllm import KEY, recording
from support import ALICE, add_model, closed_port, wait_for_lock_wait

REPO = Path(__file__).resolve().parent.parent


def add_message(db, model: str, provider: str = "vllm") -> None:
    """A message naming an unknown model: the trigger creates its placeholder."""
    db.execute("INSERT INTO messages (role, content, model_id, provider) VALUES ('assistant', 'hi', %s, %s)",
               (model, provider))


def row(db, model: str) -> dict:
    cur_rows = db.query("SELECT to_jsonb(l) FROM llm_models l WHERE id = %s", (model,))
    return cur_rows[0][0] if cur_rows else None


def name(db, model: str) -> str:
    return db.value("SELECT name FROM llm_models WHERE id = %s", (model,))


def snapshot(db) -> list:
    return db.query("SELECT to_jsonb(l) FROM llm_models l ORDER BY id") + \
        db.query("SELECT model_uuid, name, source, endpoint FROM pgmodelnames.machine_names ORDER BY 1")


def backfill(db, *args: str):
    return db.cli("backfill", *args)


# ----------------------------------------------------------------- the pass

def test_names_what_it_can_match_and_explains_the_rest(installed_db, vllm_servers):
    db, server = installed_db, vllm_servers().serve("b1_served_name_v1_models")  # serves tiny-llama
    placeholder = str(uuid.uuid4())
    add_message(db, placeholder)  # no endpoint known
    nameless = add_model(db, base_url=server.url + "/v1/")  # neither model_id nor served name
    by_root = add_model(db, base_url=server.url, model_id="/tmp/tiny-llama")  # the --model path
    human = add_model(db, name="Our Llama", base_url=server.url)
    other = add_model(db, base_url=server.url, model_id="other-model")  # not served there
    assert name(db, nameless) == f"Unknown vllm model {nameless[:8]}"
    assert name(db, by_root) == "tiny-llama" and name(db, other) == "other-model"  # the view's readable model_id

    result = backfill(db)
    assert result.code == 0, result.err + result.out
    assert name(db, nameless) == "tiny-llama"
    assert name(db, by_root) == "tiny-llama"
    assert row(db, by_root)["served_model_name"] == "tiny-llama"
    assert row(db, by_root)["model_id"] == "/tmp/tiny-llama"  # app data is filled, never overwritten
    assert row(db, nameless)["model_id"] == "tiny-llama"
    assert name(db, human) == "Our Llama"
    assert name(db, other) == "other-model"  # never renamed after another model
    assert name(db, placeholder) == f"Unknown vllm model {placeholder[:8]}"
    assert db.query("SELECT source, endpoint FROM pgmodelnames.machine_names WHERE model_uuid = %s",
                    (nameless,)) == [("server", server.url)]
    out = result.out
    assert f"ok  {server.url}  [llm_models.base_url]  1 model: tiny-llama" in out
    assert "named 1 model:" in out and "the server's only base model" in out
    # by_root already read as its folder (the guard's readable model_id): only its empty column is filled.
    assert "completed 1 model (the name was already right; empty columns filled)" in out
    assert re.search(rf"{by_root}  tiny-llama +{re.escape(server.url)}  served_model_name", out), out
    assert f"{other}  'other-model': the server does not serve its model_id 'other-model'" in out
    assert f"{placeholder}  'Unknown vllm model {placeholder[:8]}': no endpoint known" in out
    assert db.value("SELECT display_name FROM model_display_names WHERE id = %s", (nameless,)) == "tiny-llama"

    before = snapshot(db)
    again = backfill(db)
    assert again.code == 0 and "nothing to do" in again.out
    assert not any(text.startswith("named") for text in again.out.splitlines())
    # The one served model already has a row: a candidate, with that row shown, but never the likeliest
    # (run as printed, the line would give two models one name).
    claims = [text for text in again.out.splitlines() if f"1.  tiny-llama  base model  {server.url}  row " in text]
    assert len(claims) == 1 and claims[0].endswith("and 2 more")  # nameless, by_root and human claim it
    assert "no guess: every served model already has a row (a second row for one gives two models one name)" \
        in again.out
    assert f"pgmodelnames backfill --map {placeholder}=SERVED_ID   (put the served id in place of SERVED_ID)" \
        in again.out
    assert snapshot(db) == before


def test_dry_run_changes_nothing(installed_db, vllm_servers):
    db, server = installed_db, vllm_servers().serve("c1_lora_v1_models")
    model = add_model(db, base_url=server.url, served="my-adapter")
    before = snapshot(db)
    result = backfill(db, "--dry-run", "--register-new")
    assert result.code == 0, result.err
    assert "dry run: nothing is changed" in result.out
    assert "would name 1 model" in result.out and "my-adapter (LoRA on tiny-llama)" in result.out
    assert "would register 1 served model" in result.out  # tiny-llama has no row yet
    assert snapshot(db) == before


def test_lora_adapter_is_named_after_its_base_and_gets_base_model(installed_db, vllm_servers):
    db, server = installed_db, vllm_servers().serve("c2_lora_multi_v1_models")
    db.execute("ALTER TABLE llm_models ADD COLUMN base_model text")
    adapter = add_model(db, base_url=server.url, served="json-adapter")
    base = add_model(db, base_url=server.url, model_id="tiny-alias")
    result = backfill(db)
    assert result.code == 0, result.err
    # tiny-alias is the second served name of tiny-llama: one model, one name (the first served one)
    assert name(db, adapter) == "json-adapter (LoRA on tiny-llama)"
    assert row(db, adapter)["base_model"] == "tiny-alias"  # app data: the parent as served
    assert name(db, base) == "tiny-llama" and row(db, base)["base_model"] is None
    # tiny-llama shares tiny-alias's root: an alias of a registered model, not a missing one
    unregistered = result.out.split("served but not registered")[1]
    assert "my-adapter" in unregistered and "json-badbase (LoRA on tiny-llama)" in unregistered
    assert "'tiny-llama'" not in unregistered


def test_a_server_with_several_base_models_is_not_guessed(installed_db, vllm_servers):
    db = installed_db
    server = vllm_servers().serve_models([{"id": "llama-8b", "root": "/m/llama"}, {"id": "qwen", "root": "/m/qwen"}])
    model = add_model(db, base_url=server.url)
    result = backfill(db)
    assert result.code == 0
    assert name(db, model) == f"Unknown vllm model {model[:8]}"
    assert "the server serves 2 base models (cannot tell which): use --map" in result.out
    assert f"--map {model}=SERVED_ID" in result.out  # two candidates: the person fills it in
    assert "1.  llama-8b" in result.out and "2.  qwen" in result.out
    assert "not matched" not in result.out  # a placeholder is listed once, under unresolved


# ----------------------------------------------------------------- --map

def test_map_names_a_placeholder(installed_db, vllm_servers):
    db, server = installed_db, vllm_servers().serve("b2_two_names_v1_models")
    placeholder = str(uuid.uuid4())
    add_message(db, placeholder)
    hint = backfill(db, "--endpoint", server.url)
    assert f"1.  tiny-llama  base model, also served as tiny-alias  {server.url}  no row yet" in hint.out
    assert f"pgmodelnames backfill --map {placeholder}=tiny-llama --endpoint {server.url}" in hint.out

    result = backfill(db, "--endpoint", server.url, "--map", f"{placeholder}=tiny-alias")
    assert result.code == 0, result.err
    assert name(db, placeholder) == "tiny-llama"  # an alias: the model's first served name
    assert row(db, placeholder)["model_id"] == "tiny-alias"
    assert row(db, placeholder)["base_url"] == server.url  # where it is served: later passes keep it current
    assert "--map" in result.out and "unresolved" not in result.out
    assert db.value("SELECT is_placeholder FROM model_display_names WHERE id = %s", (placeholder,)) is False
    again = backfill(db, "--endpoint", server.url, "--map", f"{placeholder}=tiny-alias")
    assert again.code == 0 and "nothing to do" in again.out


@pytest.mark.parametrize("mapping, says", [
    ("{p}=no-such-model", "no queried endpoint serves that id (served: tiny-llama)"),
    ("{other}=tiny-llama", "no llm_models row has this id"),
    ("not-a-uuid=tiny-llama", "expected UUID=SERVED_ID"),
    ("{p}=", "expected UUID=SERVED_ID"),
])
def test_bad_map_is_a_usage_error_and_changes_nothing(make_db, vllm_servers, mapping, says):
    db, server = make_db("minimal", installed=True), vllm_servers().serve("b1_served_name_v1_models")
    placeholder = str(uuid.uuid4())
    add_message(db, placeholder)
    nameless = add_model(db, base_url=server.url)
    before = snapshot(db)
    result = backfill(db, "--endpoint", server.url, "--map",
                      mapping.format(p=placeholder, other=str(uuid.uuid4())))
    assert result.code == 2
    assert says in result.err
    assert snapshot(db) == before and name(db, nameless) != "tiny-llama"  # nothing applied


def test_map_never_replaces_a_human_name(installed_db, vllm_servers):
    db, server = installed_db, vllm_servers().serve("b1_served_name_v1_models")
    model = add_model(db, name="Chosen by Alice")
    result = backfill(db, "--endpoint", server.url, "--map", f"{model}=tiny-llama")
    assert result.code == 0
    assert name(db, model) == "Chosen by Alice"
    assert "has the human name 'Chosen by Alice'; --map ignored" in result.out


def test_human_names_are_never_touched(installed_db, vllm_servers):
    db, server = installed_db, vllm_servers().serve("c1_lora_v1_models")
    humans = [add_model(db, name="Prod chat", base_url=server.url, served="tiny-llama"),
              add_model(db, name="   Adapter  ", base_url=server.url, model_id="my-adapter")]
    db.execute("INSERT INTO pgmodelnames.machine_names (model_uuid, name, source) VALUES (%s, 'old', 'guard')",
               (humans[0],))  # a recorded machine name that no longer matches: a human renamed it
    before = snapshot(db)
    result = backfill(db, "--register-new")
    assert result.code == 0
    assert [name(db, m) for m in humans] == ["Prod chat", "   Adapter  "]
    assert snapshot(db) == before and "nothing to do" in result.out


def test_a_rename_racing_with_backfill_wins(make_db, vllm_servers):
    """The app renames a row while backfill is about to write it: backfill's
    row lock waits for the app's transaction and then leaves the human name."""
    db, server = make_db("minimal", installed=True), vllm_servers().serve("b1_served_name_v1_models")
    model = add_model(db, base_url=server.url)
    app = db.connect(autocommit=False)
    app.execute("UPDATE llm_models SET name = 'Renamed by a human' WHERE id = %s", (model,))
    outcome = {}
    runner = threading.Thread(target=lambda: outcome.setdefault("result", backfill(db)))
    runner.start()
    wait_for_lock_wait(db, seconds=10)
    app.commit()  # the human name commits while backfill waits on the row
    app.close()
    runner.join(15)
    result = outcome["result"]
    assert result.code == 0, result.err
    assert name(db, model) == "Renamed by a human"
    assert "renamed meanwhile to 'Renamed by a human' (a human name): left alone" in result.out


# ----------------------------------------------------------------- --register-new

def test_register_new_adds_served_models(installed_db, vllm_servers):
    db, server = installed_db, vllm_servers().serve("c1_lora_v1_models")
    listed = backfill(db, "--endpoint", server.url + "/v1")
    assert listed.code == 0
    assert "served but not registered" in listed.out and "add them with --register-new" in listed.out
    assert db.value("SELECT count(*) FROM llm_models") == 0

    result = backfill(db, "--endpoint", server.url + "/v1", "--register-new", "--user-id", ALICE)
    assert result.code == 0, result.err
    rows = {r[0]["served_model_name"]: r[0] for r in db.query("SELECT to_jsonb(l) FROM llm_models l")}
    assert set(rows) == {"tiny-llama", "my-adapter"}
    assert rows["tiny-llama"]["name"] == "tiny-llama"
    assert rows["my-adapter"]["name"] == "my-adapter (LoRA on tiny-llama)"
    for served, data in rows.items():
        assert data["provider"] == "vllm" and data["model_id"] == served
        assert data["base_url"] == server.url + "/v1"  # as the operator wrote it
        assert data["user_id"] == ALICE
    assert db.value("SELECT count(*) FROM pgmodelnames.machine_names WHERE source = 'server' AND endpoint = %s",
                    (server.url,)) == 2
    assert "registered 2 served models" in result.out

    again = backfill(db, "--endpoint", server.url + "/v1", "--register-new", "--user-id", ALICE)
    assert again.code == 0 and "nothing to do" in again.out
    assert db.value("SELECT count(*) FROM llm_models") == 2


def test_register_new_option_checks(make_db, vllm_servers):
    db, server = make_db("minimal", installed=True), vllm_servers().serve("b1_served_name_v1_models")
    assert "only applies with --register-new" in backfill(db, "--endpoint", server.url, "--user-id", ALICE).err
    bad = backfill(db, "--endpoint", server.url, "--register-new", "--user-id", "alice")
    assert bad.code == 2 and "is not a UUID" in bad.err
    db.execute("ALTER TABLE llm_models ALTER COLUMN user_id SET NOT NULL")
    need = backfill(db, "--endpoint", server.url, "--register-new")
    assert need.code == 2 and "pass --user-id UUID" in need.err
    assert db.value("SELECT count(*) FROM llm_models") == 0


def test_too_long_id_is_skipped_and_the_rest_commits(installed_db, vllm_servers):
    db = installed_db
    server = vllm_servers().serve_models([{"id": "z" * 10_000}, {"id": "tiny-llama", "root": "/tmp/tiny-llama"}])
    result = backfill(db, "--endpoint", server.url, "--register-new")
    assert result.code == 0, result.err
    assert f"note: {server.url}: skipped served model 1" in result.out
    assert "10000 characters" in result.out and "not stored truncated" in result.out
    assert db.query("SELECT name FROM llm_models") == [("tiny-llama",)]


MALICIOUS = [
    "x'); DROP TABLE llm_models; --",
    "semi;colon \"quoted\" $$dollar$$ %s %(name)s {fills}",
    "line\nbreak\r\nthird",
    "bell\x07and\x1bescape\x7f",
    "ünïcødé 模型 🚀",
    "\u202eevil-bidi",
]


def test_malicious_ids_are_stored_safely(installed_db, vllm_servers):
    db = installed_db
    server = vllm_servers().serve_models([{"id": i} for i in MALICIOUS])
    result = backfill(db, "--endpoint", server.url, "--register-new", "--json")
    assert result.code == 0, result.err
    storable = [i for i in MALICIOUS if not any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 or ch == "\u202e" for ch in i)]
    assert len(storable) == 3
    stored = {r[0]: r[1] for r in db.query("SELECT served_model_name, name FROM llm_models")}
    assert set(stored) == set(storable)  # the ids exactly as served, as parameters
    for served, shown in stored.items():
        assert shown == served
        assert db.value("SELECT model_id FROM llm_models WHERE served_model_name = %s", (served,)) == served
    document = json.loads(result.out)
    assert len(document["registered"]) == len(storable)
    notices = document["endpoints"][0]["notices"]
    skipped = [n for n in notices if "control, invisible or text-direction" in n]
    assert len(skipped) == len(MALICIOUS) - len(storable), notices
    assert all(not any(ord(ch) < 32 or ch == "\u202e" for ch in n) for n in notices)
    assert db.value("SELECT to_regclass('llm_models') IS NOT NULL")
    assert backfill(db, "--endpoint", server.url, "--register-new").out.count("nothing to do") == 1


# ----------------------------------------------------------------- endpoints

def test_endpoints_are_asked_at_once(installed_db, vllm_servers):
    """Each server answers only once both have been asked: a backfill that
    asked one after the other would see the first time out (however fast
    or slow the machine: the timeout is generous)."""
    db = installed_db
    both_asked = threading.Barrier(2, timeout=60)

    def answer_when_both_asked(request: Request) -> Response:
        both_asked.wait()
        return recording("b1_served_name_v1_models")

    first, second = vllm_servers(), vllm_servers()
    for server in (first, second):
        server.http.expect_request("/v1/models").respond_with_handler(answer_when_both_asked)
    model = add_model(db, base_url=second.url)
    try:
        result = backfill(db, "--endpoint", first.url, "--endpoint", second.url, "--timeout", "30")
    finally:
        both_asked.abort()  # a handler still waiting (the test failed) ends now
    assert result.code == 0, result.out
    assert len(first.requests()) == len(second.requests()) == 1
    assert name(db, model) == "tiny-llama"


def test_a_server_that_times_out_does_not_hold_back_the_others(installed_db, vllm_servers):
    db = installed_db
    # It would answer after 30 s: a backfill that did not give up after 2 s would get its answer.
    slow, fast = vllm_servers().serve_slowly(30), vllm_servers().serve("b1_served_name_v1_models")
    model = add_model(db, base_url=fast.url)
    result = backfill(db, "--endpoint", slow.url, "--endpoint", fast.url, "--timeout", "2")
    assert result.code == 6
    assert name(db, model) == "tiny-llama"  # the healthy answer was applied
    assert f"FAILED  {slow.url}" in result.out and "timed out after 2 s" in result.out
    assert "the answers of the others were applied (exit code 6)" in result.out


def test_every_failure_gets_its_own_line(installed_db, vllm_servers):
    db = installed_db
    healthy = vllm_servers().serve("b1_served_name_v1_models")
    missing = vllm_servers()
    missing.http.expect_request("/v1/models").respond_with_data('{"detail":"Not Found"}', status=404)
    refused = f"http://127.0.0.1:{closed_port()}"
    placeholder = str(uuid.uuid4())
    add_message(db, placeholder)
    db.execute("UPDATE llm_models SET base_url = %s WHERE id = %s", (refused, placeholder))
    add_model(db, base_url="ftp://files.example.com/v1")
    result = backfill(db, "--endpoint", healthy.url, "--endpoint", missing.url,
                      "--endpoint", "http://does-not-exist.invalid:8000")
    assert result.code == 6
    lines = result.out.splitlines()

    def line(url):
        return next(text for text in lines if url in text)
    assert "DNS failure" in line("does-not-exist.invalid")
    assert "HTTP 404" in line(missing.url)
    assert "connection refused" in line(refused) and "[llm_models.base_url]" in line(refused)
    assert "not queried: only http:// and https://" in line("ftp://files.example.com/v1")
    assert f"its endpoint {refused} failed: connection refused" in result.out
    assert "2 endpoints failed (named with --endpoint)" in result.out
    assert "1 endpoint found in the database failed" in result.out  # reported, not counted


def test_api_key_goes_only_to_named_endpoints_and_is_never_printed(installed_db, vllm_servers, monkeypatch):
    db, server = installed_db, vllm_servers().serve_with_key()
    model = add_model(db, base_url=server.url)  # discovered: chosen by whoever wrote the row
    found = backfill(db, "--api-key", KEY)
    assert found.code == 0  # a server found in the database that needs a key does not fail the run
    assert f"fix: {server.url}: name it with its key: pgmodelnames backfill --endpoint {server.url} " \
           f"--api-key-env {server.url}=VLLM_API_KEY (the variable that holds its key; " \
           f"or --api-key-file {server.url}=PATH)" in found.out
    assert [r.headers.get("Authorization") for r in server.requests()] == [None]
    assert f"name this one with --endpoint {server.url} and give its key with --api-key-env" in found.out
    assert name(db, model) != "tiny-llama"

    server.http.clear_log()
    monkeypatch.setenv("VLLM_API_KEY", KEY)
    named = backfill(db, "--endpoint", server.url, "--json")
    assert named.code == 0, named.err
    assert [r.headers.get("Authorization") for r in server.requests()] == [f"Bearer {KEY}"]
    assert name(db, model) == "tiny-llama"
    document = json.loads(named.out)
    assert document["endpoints"][0]["source"] == "--endpoint" and document["changes"][0]["new_name"] == "tiny-llama"
    for output in (found.out, found.err, named.out, named.err):
        assert KEY not in output


def test_each_endpoint_gets_its_own_key_from_a_variable_or_a_file(installed_db, vllm_servers, monkeypatch, tmp_path):
    db = installed_db
    by_env, by_file = vllm_servers().serve_with_key("sk-env-one"), vllm_servers().serve_with_key("sk-file-two")
    keyless = vllm_servers().serve("c1_lora_v1_models")
    models = [add_model(db, base_url=server.url) for server in (by_env, by_file)]
    monkeypatch.setenv("GPU1_KEY", "sk-env-one")
    monkeypatch.setenv("VLLM_API_KEY", "sk-ambient")  # several endpoints: sent to none of them
    key_file = tmp_path / "gpu2.key"
    key_file.write_text("sk-file-two\n")
    result = backfill(db, "--endpoint", by_env.url, "--endpoint", by_file.url + "/v1", "--endpoint", keyless.url,
                      "--api-key-env", f"{by_env.url}=GPU1_KEY", "--api-key-file", f"{by_file.url}={key_file}")
    assert result.code == 0, result.out + result.err
    assert [name(db, model) for model in models] == ["tiny-llama", "tiny-llama"]
    assert [[r.headers.get("Authorization") for r in server.requests()] for server in (by_env, by_file, keyless)] == [
        ["Bearer sk-env-one"], ["Bearer sk-file-two"], [None]]
    shown = {server: next(text.split() for text in result.out.splitlines() if f" {server.url} " in text)
             for server in (by_env, by_file, keyless)}
    assert shown[by_env][:5] == ["ok", by_env.url, "[--endpoint,", "key", "from"] and shown[by_env][5] == "$GPU1_KEY]"
    assert shown[by_file][:6] == ["ok", by_file.url, "[--endpoint,", "key", "from", f"{key_file}]"]
    assert shown[keyless][:3] == ["ok", keyless.url, "[--endpoint]"]
    assert result.err == ("pgmodelnames: note: VLLM_API_KEY is set but not sent: several --endpoint are named, and a "
                          "key goes only to the server it is given for; to send it to one: "
                          "--api-key-env URL=VLLM_API_KEY\n")
    document = json.loads(backfill(db, "--endpoint", by_env.url, "--api-key-env", f"{by_env.url}=GPU1_KEY",
                                   "--json").out)
    assert document["endpoints"][0]["key_from"] == "$GPU1_KEY"
    for text in (result.out, result.err):
        assert not any(key in text for key in ("sk-env-one", "sk-file-two", "sk-ambient"))


def test_printed_commands_carry_the_keys_reference_and_run_as_printed(installed_db, vllm_servers, monkeypatch,
                                                                       tmp_path):
    db = installed_db
    locked = vllm_servers().serve_with_key("sk-locked")  # serves tiny-llama, which no row claims yet
    placeholder = str(uuid.uuid4())
    add_message(db, placeholder)
    key_file = tmp_path / "locked key"
    key_file.write_text("sk-locked")
    shown = backfill(db, "--dry-run", "--endpoint", locked.url, "--api-key-file", f"{locked.url}={key_file}")
    assert shown.code == 0, shown.out + shown.err
    line = next(text.split("name it after one:")[1].strip() for text in shown.out.splitlines()
                if "name it after one:" in text)
    assert line == (f"pgmodelnames backfill --map {placeholder}=tiny-llama --endpoint {locked.url} "
                    f"--api-key-file '{locked.url}={key_file}'")
    assert "sk-locked" not in shown.out
    ran = db.cli(*shlex.split(line)[1:])
    assert ran.code == 0, ran.out + ran.err
    assert name(db, placeholder) == "tiny-llama"

    # A key typed with --api-key has no reference: the printed commands read it from VLLM_API_KEY.
    other = str(uuid.uuid4())
    add_message(db, other)
    typed = backfill(db, "--dry-run", "--endpoint", locked.url, "--api-key", "sk-locked")
    assert f"pgmodelnames backfill --map {other}=SERVED_ID --endpoint {locked.url} " \
           f"--api-key-env {locked.url}=VLLM_API_KEY   (put the served id" in typed.out
    assert "sk-locked" not in typed.out
    monkeypatch.setenv("VLLM_API_KEY", "sk-locked")
    tail = ["--endpoint", locked.url, "--api-key-env", f"{locked.url}=VLLM_API_KEY"]  # as printed, where it is set
    assert backfill(db, "--dry-run", *tail).code == 0
    assert [r.headers.get("Authorization") for r in locked.requests()] == ["Bearer sk-locked"] * 4


@pytest.mark.parametrize("args, env, says", [
    pytest.param(["--api-key-env", "{url}=NO_SUCH_VAR"], {}, "the environment variable NO_SUCH_VAR is not set",
                 id="unknown-variable"),
    pytest.param(["--api-key-env", "{url}=PMN_SPACED"], {"PMN_SPACED": "sk-secret with space"},
                 "an API key must be printable ASCII without spaces or control characters", id="key-with-a-space"),
    pytest.param(["--api-key-env", "{url}=PMN_EMPTY"], {"PMN_EMPTY": ""}, "PMN_EMPTY is empty", id="empty-key"),
    pytest.param(["--api-key-file", "{url}={dir}"], {}, "cannot read", id="unreadable-file"),
    pytest.param(["--api-key-file", "{url}={dir}/empty"], {}, "is empty: no API key in it", id="empty-file"),
    pytest.param(["--api-key-env", "http://elsewhere:8000=PMN_KEY"], {"PMN_KEY": "sk-secret"},
                 "no --endpoint names http://elsewhere:8000", id="url-no-endpoint-names"),
    pytest.param(["--endpoint", "http://second:8000", "--api-key", "sk-secret"], {},
                 "--api-key is the key of the one --endpoint; with several", id="one-key-several-endpoints"),
])
def test_bad_key_input_is_one_line_and_exit_2(make_db, tmp_path, monkeypatch, args, env, says):
    db = make_db("minimal", installed=True)
    (tmp_path / "empty").write_text("\n")
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    url = "http://127.0.0.1:9"
    argv = ["--endpoint", url, *(a.format(url=url, dir=tmp_path) for a in args)]
    result = backfill(db, *argv)
    assert result.code == 2 and result.out == ""
    assert result.err.startswith("pgmodelnames: error: ") and result.err.count("\n") == 1 and says in result.err
    assert "sk-secret" not in result.err
    # The same through a real process: no traceback, the same one line.
    done = subprocess.run([sys.executable, "-m", "pgmodelnames", "--database-url", db.url, "backfill", *argv],
                          capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(REPO)), cwd=REPO,
                          timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", result.err)


def test_json_output(installed_db, vllm_servers):
    db, server = installed_db, vllm_servers().serve("c0_lora_default_name_v1_models")
    model = add_model(db, base_url=server.url)
    result = backfill(db, "--json", "--timeout", "2")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["dry_run"] is False and document["exit_code"] == 0 and document["nothing_to_do"] is False
    assert document["endpoints"][0]["url"] == server.url and document["endpoints"][0]["status"] == "ok"
    assert [m["name"] for m in document["endpoints"][0]["models"]] == [
        "tiny-llama", "my-adapter (LoRA on tiny-llama)"]  # a served path reads as its folder
    change = document["changes"][0]
    assert change["model"] == model and change["new_name"] == "tiny-llama"
    assert change["matched_by"] == "the server's only base model" and change["endpoint"] == server.url
    assert document["not_registered"] == [{"endpoint": server.url, "served_id": "my-adapter",
                                           "name": "my-adapter (LoRA on tiny-llama)", "aliases": []}]
    again = json.loads(backfill(db, "--json").out)
    assert again["nothing_to_do"] is True and again["changes"] == []


@pytest.mark.parametrize("args, says", [
    (["--endpoint", "gpu1:8000"], "only http:// and https://"),
    (["--endpoint", "http://u:pw@gpu1:8000"], "credentials in the URL are not accepted"),
    (["--timeout", "0"], "--timeout must be between"),
    (["--watch", "-1"], "--watch must be a positive"),
    (["--api-key", "two words"], "printable ASCII"),
    (["--watch", "5", "--dry-run"], "do not go together"),
])
def test_bad_options_exit_2(make_db, args, says):
    result = backfill(make_db("minimal", installed=True), *args)
    assert result.code == 2 and says in result.err
    assert "pw" not in result.err


def test_not_installed_says_so(make_db):
    result = backfill(make_db("supabase"), "--endpoint", "http://127.0.0.1:9")
    assert result.code == 4 and "pgmodelnames is not installed" in result.err and "pgmodelnames upgrade" in result.err


def test_no_endpoint_at_all(installed_db):
    db = installed_db
    placeholder = str(uuid.uuid4())
    add_message(db, placeholder)
    result = backfill(db)
    assert result.code == 0
    assert "none: pass --endpoint URL" in result.out and f"{placeholder}" in result.out


def test_database_unreachable_exit_3(installed_db):
    result = installed_db.cli("backfill", url=f"postgresql://postgres@127.0.0.1:{closed_port()}/nope")
    assert result.code == 3 and "cannot connect to the database" in result.err


# ----------------------------------------------------------------- --watch

def test_watch_applies_new_rows_prints_only_changes_and_stops_on_sigterm(make_db, vllm_servers):
    db, server = make_db("minimal", installed=True), vllm_servers().serve("b1_served_name_v1_models")
    dead = f"http://127.0.0.1:{closed_port()}"  # refuses at once: the timeout only bounds the live server
    env = dict(os.environ, PYTHONPATH=str(REPO))
    process = subprocess.Popen(
        [sys.executable, "-m", "pgmodelnames", "--database-url", db.url, "backfill",
         "--endpoint", server.url, "--endpoint", dead, "--watch", "0.2", "--timeout", "30"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    lines: queue.Queue[str | None] = queue.Queue()

    def read_all() -> None:
        for text in process.stdout:
            lines.put(text)
        lines.put(None)  # end of output

    threading.Thread(target=read_all, daemon=True).start()

    def read_until(marker: str | None, seconds: float = 60) -> list[str]:
        seen, deadline = [], time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                text = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if text is None:
                if marker is None:
                    return seen
                break
            seen.append(text)
            if marker is not None and marker in text:
                return seen
        raise AssertionError(f"{marker or 'the end of the output'!r} not printed; got {seen!r}")

    def asked(times: int, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while len(server.requests()) < times:
            assert time.monotonic() < deadline, f"{len(server.requests())} passes, not {times}"
            time.sleep(0.05)

    try:
        first = read_until("endpoint failed")  # the first pass prints the whole report
        assert any("nothing changed" in text for text in first)
        model = add_model(db, base_url=server.url)
        change = read_until("tiny-llama")  # a later pass prints only what changed
        assert any("named 1 model" in text for text in change)
        assert not any("connection refused" in text or "nothing to do" in text for text in change)
        assert name(db, model) == "tiny-llama"
        # Two more passes ask the server (the first of them has printed all it would by the
        # time the second asks), then the end of the output: the quiet passes printed nothing.
        asked(len(server.requests()) + 2)
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
        assert read_until(None) == []
        assert "backfill --watch stopped after" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_watch_json_prints_one_document_per_changed_pass(make_db, vllm_servers, capsys):
    from pgmodelnames import cli, config

    db, server = make_db("supabase", installed=True), vllm_servers().serve("b1_served_name_v1_models")
    args = cli.build_parser().parse_args(["backfill", "--endpoint", server.url, "--watch", "0.1", "--json"])
    settings = config.settings(db.url, None)
    stop = threading.Event()
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.setdefault(
        "code", cli.watch(cli.Face(), settings, cli.backfill_options(args)[0], 0.1, True, stop)))
    worker.start()
    try:
        # The first pass prints its document: only then does the change below
        # belong to a later pass.
        deadline = time.monotonic() + 20
        printed = ""
        while '"nothing_to_do": true' not in printed and time.monotonic() < deadline:
            time.sleep(0.02)
            printed += capsys.readouterr().out
        assert '"nothing_to_do": true' in printed, printed
        model = add_model(db, base_url=server.url)
        while model not in printed and time.monotonic() < deadline:
            time.sleep(0.02)
            printed += capsys.readouterr().out
    finally:
        stop.set()
        worker.join(10)
    printed += capsys.readouterr().out
    assert outcome["code"] == 0
    documents = [json.loads(text) for text in printed.splitlines()]
    assert len(documents) == 2  # the first pass, then only the pass that changed something
    assert documents[0]["nothing_to_do"] is True and documents[0]["endpoints"][0]["status"] == "ok"
    assert documents[1]["changes"][0]["model"] == model and documents[1]["endpoints"] == []
    assert "at" in documents[1]
    assert name(db, model) == "tiny-llama"
