"""The headline case end to end, on both fixture schemas against local servers
replaying recorded vLLM 0.32 answers: model UUIDs known only from messages,
from the doctor to every model named, and what keeps the result current
(--map records where a model is served, aliases get one name, --watch says
when a new placeholder needs a person), with exit codes that fit cron."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid

from pgmodelnames import errors
from recorded_vllm import KEY
from support import ALICE, add_model, closed_port

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def add_messages(db, model: str, count: int = 1, provider: str = "vllm") -> None:
    db.execute("INSERT INTO messages (role, content, model_id, provider, user_id) "
               "SELECT 'assistant', 'hi', %s, %s, %s FROM generate_series(1, %s)", (model, provider, ALICE, count))


def row(db, model: str) -> dict:
    found = db.query("SELECT to_jsonb(l) FROM llm_models l WHERE id = %s", (model,))
    return found[0][0] if found else None


def name(db, model: str) -> str:
    return db.value("SELECT name FROM llm_models WHERE id = %s", (model,))


def doctor(db) -> tuple[int, dict]:
    result = db.cli("doctor", "--json")
    assert result.err == "", result.err
    return result.code, json.loads(result.out)


def step_starting(lines: list[str], prefix: str) -> str:
    return next(line for line in lines if line.startswith(prefix))


# ----------------------------------------------------------------- the journey

def test_from_doctor_to_every_model_named_without_the_docs(app_db, vllm_servers):
    db, server = app_db, vllm_servers().serve("c1_lora_v1_models")  # tiny-llama, my-adapter
    chat, coder = str(uuid.uuid4()), str(uuid.uuid4())
    add_messages(db, chat, 4)
    add_messages(db, coder, 2)

    code, report = doctor(db)  # before install
    assert code == errors.PROBLEMS_FOUND and report["problems"][0]["next_steps"] == ["pgmodelnames upgrade"]
    db.upgrade()

    code, report = doctor(db)  # no server is known for them: a person must say which model each is
    [problem] = report["problems"]
    assert problem["code"] == "placeholders_need_a_person"
    assert "known only from messages" in problem["message"]
    assert problem["next_steps"][0].startswith("pgmodelnames backfill --assign --endpoint http://VLLM_HOST:8000")
    assert [p["model"] for p in report["placeholders"]] == [chat, coder]  # most messages first
    assert report["placeholders"][0]["evidence"]["messages"] == 4
    text = db.cli("doctor").out
    assert "Placeholders waiting for a name (2, most messages first)" in text
    assert f"seen in: 4 messages, first " in text

    # The doctor's advice with the server named: evidence, candidates, and a --map line per placeholder.
    shown = db.cli("backfill", "--endpoint", server.url, "--dry-run")
    assert shown.code == errors.OK, shown.err
    assert "candidates, the served models (2 with no row yet):" in shown.out
    assert f"pgmodelnames backfill --map {chat}=SERVED_ID --endpoint {server.url}" in shown.out  # two: you choose
    line = f"pgmodelnames backfill --map {chat}=tiny-llama --endpoint {server.url}"
    assert db.cli(*line.split()[1:]).code == errors.OK
    assert name(db, chat) == "tiny-llama" and row(db, chat)["base_url"] == server.url

    # One served model has no row now: it is the likeliest for the other, and the line runs as printed.
    code, report = doctor(db)  # the doctor knows the server now (the base_url --map recorded)
    [entry] = report["placeholders"]
    assert entry["suggested"] == "my-adapter"
    assert entry["commands"]["map"] == f"pgmodelnames backfill --map {coder}=my-adapter"
    assert db.cli(*entry["commands"]["map"].split()[1:]).code == errors.OK
    assert name(db, coder) == "my-adapter (LoRA on tiny-llama)"

    code, report = doctor(db)
    assert code == errors.OK, report["problems"]
    assert db.cli("doctor").code == errors.OK


# ----------------------------------------------------------------- keeping it current

def test_map_records_the_endpoint_and_later_passes_keep_the_row_current(installed_db, vllm_servers):
    db, server = installed_db, vllm_servers()
    server.serve_models([{"id": "tiny-alias", "root": "/tmp/tiny-llama"}])
    placeholder = str(uuid.uuid4())
    add_messages(db, placeholder)
    result = db.cli("backfill", "--endpoint", server.url, "--map", f"{placeholder}=tiny-alias")
    assert result.code == errors.OK, result.err
    assert (row(db, placeholder)["base_url"], name(db, placeholder)) == (server.url, "tiny-alias")
    assert "fills model_id, served_model_name, base_url" in result.out

    # The server restarts with a second name first: the row follows, with no --endpoint given.
    server.reset()
    server.serve("b2_two_names_v1_models")
    again = db.cli("backfill", "--register-new", "--user-id", ALICE)
    assert again.code == errors.OK, again.err
    assert name(db, placeholder) == "tiny-llama"  # the model's first served name
    assert f"[llm_models.base_url]" in again.out
    assert db.value("SELECT count(*) FROM llm_models") == 1  # --register-new adds no twin
    assert "nothing to do" in db.cli("backfill", "--register-new", "--user-id", ALICE).out


def test_register_new_never_twins_a_mapped_model_in_the_same_pass(installed_db, vllm_servers):
    db, server = installed_db, vllm_servers().serve("b2_two_names_v1_models")
    placeholder = str(uuid.uuid4())
    add_messages(db, placeholder)
    result = db.cli("backfill", "--endpoint", server.url, "--map", f"{placeholder}=tiny-alias",
                    "--register-new", "--user-id", ALICE)
    assert result.code == errors.OK, result.err
    assert db.value("SELECT count(*) FROM llm_models") == 1 and "registered" not in result.out


def test_a_row_mapped_before_base_url_was_recorded_is_kept_current(installed_db, vllm_servers):
    """Rows --map named before it recorded base_url: the endpoint of their machine name stands in."""
    db, server = installed_db, vllm_servers().serve("b2_two_names_v1_models")
    placeholder = str(uuid.uuid4())
    add_messages(db, placeholder)
    db.execute("UPDATE llm_models SET name = 'tiny-alias', served_model_name = 'tiny-alias' WHERE id = %s",
               (placeholder,))
    db.execute("UPDATE pgmodelnames.machine_names SET name = 'tiny-alias', source = 'server', endpoint = %s "
               "WHERE model_uuid = %s", (server.url, placeholder))
    result = db.cli("backfill")
    assert result.code == errors.OK, result.err
    assert f"{server.url}  [recorded by backfill]" in result.out
    assert name(db, placeholder) == "tiny-llama" and row(db, placeholder)["base_url"] == server.url


def test_rows_for_any_alias_get_one_display_name(installed_db, vllm_servers):
    db, server = installed_db, vllm_servers().serve("b2_two_names_v1_models")
    first = add_model(db, base_url=server.url, served="tiny-llama")
    second = add_model(db, base_url=server.url, served="tiny-alias")
    assert db.cli("backfill").code == errors.OK
    assert db.query("SELECT DISTINCT display_name FROM model_display_names WHERE id IN (%s, %s)",
                    (first, second)) == [("tiny-llama",)]


# ----------------------------------------------------------------- the small things

def test_register_new_dry_run_shows_new_not_uuids_the_run_will_not_use(installed_db, vllm_servers):
    db, server = installed_db, vllm_servers().serve("c1_lora_v1_models")
    result = db.cli("backfill", "--endpoint", server.url, "--register-new", "--dry-run")
    assert result.code == errors.OK, result.err
    section = result.out.split("would register 2 served models (--register-new):")[1]
    assert "(new)" in section and not UUID_RE.search(section)
    document = json.loads(db.cli("backfill", "--endpoint", server.url, "--register-new", "--dry-run",
                                 "--json").out)
    assert [c["model"] for c in document["registered"]] == [None, None]
    done = json.loads(db.cli("backfill", "--endpoint", server.url, "--register-new", "--json").out)
    assert all(UUID_RE.fullmatch(c["model"]) for c in done["registered"])
    assert {r[0] for r in db.query("SELECT id::text FROM llm_models")} == {c["model"] for c in done["registered"]}


def test_a_row_whose_name_was_right_is_completed_not_renamed_to_itself(installed_db, vllm_servers):
    db, server = installed_db, vllm_servers().serve("b1_served_name_v1_models")
    model = add_model(db, base_url=server.url, model_id="tiny-llama")  # the guard names it tiny-llama
    result = db.cli("backfill")
    assert result.code == errors.OK
    assert "completed 1 model (the name was already right; empty columns filled):" in result.out
    assert "tiny-llama  ->  tiny-llama" not in result.out and "named 1 model" not in result.out
    assert row(db, model)["served_model_name"] == "tiny-llama"


def test_lists_of_served_ids_say_how_many_more(installed_db, vllm_servers):
    db = installed_db
    server = vllm_servers().serve_models([{"id": f"model-{n}", "root": f"/m/{n}"} for n in range(7)]
                                         + [{"id": "an-adapter", "root": "/l", "parent": "model-0"}])
    gone = add_model(db, base_url=server.url, served="old-model", name=None)
    result = db.cli("backfill")
    assert "8 models: model-0, model-1, model-2, model-3, model-4 and 3 more" in result.out
    assert "(it serves model-0, model-1, model-2, model-3, model-4 and 3 more)" in result.out
    # and the row whose model went away says what to do
    assert f"served under another id? pgmodelnames backfill --map {gone}=SERVED_ID" in result.out
    assert f"retired? keep its name (it is then never listed again): pgmodelnames rename {gone} old-model" \
        in result.out
    assert db.cli("rename", gone, "old-model").code == errors.OK
    assert gone not in db.cli("backfill").out


def test_nothing_to_do_is_not_said_when_an_endpoint_failed(installed_db, vllm_servers):
    db, server = installed_db, vllm_servers().serve("b1_served_name_v1_models")
    dead = f"http://127.0.0.1:{closed_port()}"
    result = db.cli("backfill", "--endpoint", server.url, "--endpoint", dead)
    assert result.code == errors.ENDPOINT_FAILED
    assert "nothing to do" not in result.out
    assert "nothing changed: the models of the servers that answered already have their names" in result.out
    assert result.out.rstrip().endswith("1 endpoint failed (named with --endpoint); "
                                        "the answers of the others were applied (exit code 6)")


def test_exit_codes_fit_cron(installed_db, vllm_servers, monkeypatch):
    """A server in llm_models that needs a key the operator does not have no longer fails every run."""
    db = installed_db
    locked, open_server = vllm_servers().serve_with_key(), vllm_servers().serve("b1_served_name_v1_models")
    add_model(db, base_url=locked.url)
    model = add_model(db, base_url=open_server.url)
    aimed = db.cli("backfill", "--endpoint", open_server.url)
    assert aimed.code == errors.OK, aimed.out
    assert name(db, model) == "tiny-llama"
    fix = f"pgmodelnames backfill --endpoint {locked.url} --api-key-env {locked.url}=VLLM_API_KEY"
    assert f"fix: {locked.url}: name it with its key: {fix} (the variable" in aimed.out
    assert "1 endpoint found in the database failed (see fix above); it does not change the exit code" in aimed.out
    document = json.loads(db.cli("backfill", "--json").out)
    assert document["exit_code"] == 0
    assert [(e["status"], e["fails_run"]) for e in document["endpoints"] if e["url"] == locked.url] == \
        [("failed", False)]
    named = db.cli("backfill", "--endpoint", locked.url)  # named, without its key: the run fails
    assert named.code == errors.ENDPOINT_FAILED
    assert db.cli("backfill", "--endpoint", locked.url, "--api-key", KEY).code == errors.OK
    with monkeypatch.context() as env:  # the fix, run as printed where the key is kept in VLLM_API_KEY
        env.setenv("VLLM_API_KEY", KEY)
        assert db.cli(*fix.split()[1:]).code == errors.OK


def test_exit_code_help_matches_the_table():
    from pgmodelnames.cli import build_parser

    assert "an endpoint named with --endpoint failed" in build_parser().format_help()
    assert "an endpoint named with --endpoint failed" in errors.EXIT_CODES[errors.ENDPOINT_FAILED]


# ----------------------------------------------------------------- the doctor's three kinds

def test_doctor_sorts_placeholders_by_what_will_name_them(installed_db, vllm_servers):
    db = installed_db
    single = vllm_servers().serve("b1_served_name_v1_models")
    several = vllm_servers().serve_models([{"id": "llama-8b", "root": "/m/llama"}, {"id": "qwen", "root": "/m/q"}])
    locked = vllm_servers().serve_with_key()
    now, choose, waits = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    for model, url in ((now, single.url), (choose, several.url), (waits, locked.url)):
        add_messages(db, model)
        db.execute("UPDATE llm_models SET base_url = %s WHERE id = %s", (url, model))
    code, report = doctor(db)
    assert code == errors.PROBLEMS_FOUND
    problems = {p["code"]: p for p in report["problems"]}
    assert set(problems) == {"placeholders", "placeholders_need_a_person", "placeholders_endpoint_failed"}
    assert problems["placeholders"]["next_steps"][0].startswith("pgmodelnames backfill ")
    assert f"pgmodelnames backfill --map {choose}=SERVED_ID" in problems["placeholders_need_a_person"]["next_steps"]
    assert any(f"--endpoint {locked.url} --api-key-env {locked.url}=VLLM_API_KEY" in step
               for step in problems["placeholders_endpoint_failed"]["next_steps"])
    entry = next(p for p in report["placeholders"] if p["model"] == choose)
    assert [c["served_id"] for c in entry["candidates"][:2]] == ["llama-8b", "qwen"]  # its own server first
    assert all(s["status"] == "ok" or s["url"] == locked.url for s in report["servers"])
    assert not any("Authorization" in r.headers for r in locked.requests())  # never a key to a found server


def test_no_printed_line_merges_models_when_a_server_is_silent(installed_db, vllm_servers):
    """Issue 18's case: one server refused for lack of a key, every model the other serves already has a
    row. The doctor's --map lines once all named that model; run as printed, four models became one."""
    db = installed_db
    locked, open_server = vllm_servers().serve_with_key(), vllm_servers().serve("b1_served_name_v1_models")
    owner = add_model(db, name="Tiny Llama", base_url=open_server.url, served="tiny-llama")
    waiting = [str(uuid.uuid4()) for _ in range(4)]
    for model in waiting:
        add_messages(db, model)
    db.execute("UPDATE llm_models SET base_url = %s WHERE id = %s", (locked.url, waiting[3]))
    code, report = doctor(db)
    assert code == errors.PROBLEMS_FOUND
    lines = [entry["commands"]["map"] for entry in report["placeholders"]]
    assert sorted(lines) == sorted(f"pgmodelnames backfill --map {model}=SERVED_ID" for model in waiting)
    assert {entry["suggestion_note"] for entry in report["placeholders"]} == {
        f"no guess: {locked.url} did not answer, and the model may be one it serves"}
    text = db.cli("doctor").out
    assert "=tiny-llama" not in text
    assert text.count(f"no guess: {locked.url} did not answer") == 4
    dry = db.cli("backfill", "--dry-run")
    assert "=tiny-llama" not in dry.out and dry.out.count("=SERVED_ID   (put the served id in place of SERVED_ID)") == 4
    assert name(db, owner) == "Tiny Llama"


# ----------------------------------------------------------------- --watch

def _watch(db, server, as_json: bool, capsys):
    from pgmodelnames import cli, config

    args = cli.build_parser().parse_args(["backfill", "--endpoint", server.url, "--watch", "0.1"]
                                         + (["--json"] if as_json else []))
    stop = threading.Event()
    outcome: dict = {}
    worker = threading.Thread(target=lambda: outcome.setdefault("code", cli.watch(
        cli.Face(), config.settings(db.url, None), cli.backfill_options(args)[0], 0.1, as_json, stop)))
    printed = {"text": ""}

    def until(marker: str, seconds: float = 20) -> str:
        deadline = time.monotonic() + seconds
        while marker not in printed["text"] and time.monotonic() < deadline:
            time.sleep(0.02)
            printed["text"] += capsys.readouterr().out
        assert marker in printed["text"], printed["text"]
        return printed["text"]

    def finish() -> int:
        stop.set()
        worker.join(10)
        printed["text"] += capsys.readouterr().out
        return outcome["code"]

    worker.start()
    return until, finish, printed


def test_watch_reports_a_new_placeholder_at_once_on_one_line(installed_db, vllm_servers, capsys):
    db, server = installed_db, vllm_servers().serve("c1_lora_v1_models")
    until, finish, printed = _watch(db, server, False, capsys)
    try:
        until("nothing to do")
        placeholder = str(uuid.uuid4())
        add_messages(db, placeholder, 3)
        until(f"new placeholder {placeholder}")
    finally:
        code = finish()
    assert code == errors.OK
    [line] = [text for text in printed["text"].splitlines() if f"new placeholder {placeholder}" in text]
    assert "3 messages, first " in line and "no endpoint known" in line
    assert line.endswith(f"to name it: pgmodelnames backfill --map {placeholder}=SERVED_ID --endpoint {server.url}")
    assert printed["text"].count(f"new placeholder {placeholder}") == 1  # once, not every pass


def test_watch_json_every_line_has_the_same_keys(installed_db, vllm_servers, capsys):
    from pgmodelnames.output_backfill import BACKFILL_JSON_KEYS

    db, server = installed_db, vllm_servers().serve("b1_served_name_v1_models")
    until, finish, printed = _watch(db, server, True, capsys)
    try:
        until('"nothing_to_do": true')
        model = add_model(db, base_url=server.url)
        placeholder = str(uuid.uuid4())
        add_messages(db, placeholder, 2)
        until('"event": "placeholder"')
        until(model)
    finally:
        code = finish()
    assert code == errors.OK
    documents = [json.loads(text) for text in printed["text"].splitlines()]
    assert all(tuple(document) == BACKFILL_JSON_KEYS for document in documents)
    events = [document["event"] for document in documents]
    assert events[0] == "pass" and "placeholder" in events and "changes" in events
    [event] = [d for d in documents if d["event"] == "placeholder"]
    assert event["placeholder"]["model"] == placeholder and event["placeholder"]["evidence"]["messages"] == 2
    # The one served model is the new row's now: the line never names it for a second model.
    assert event["placeholder"]["commands"]["map"] == \
        f"pgmodelnames backfill --map {placeholder}=SERVED_ID --endpoint {server.url}"
    assert event["placeholder"]["suggestion_note"].startswith("no guess: every served model already has a row")


# ----------------------------------------------------------------- other OpenAI-compatible servers

def test_other_openai_compatible_servers_are_read_as_meant(installed_db, vllm_servers):
    """Answers shaped as SGLang, TGI and Ollama/LiteLLM send them (literal bodies, not recordings):
    each row is matched by what the server really says, nothing is guessed or merged."""
    db = installed_db
    sglang, tgi, ollama = vllm_servers(), vllm_servers(), vllm_servers()
    sglang.http.expect_request("/v1/models").respond_with_json({"object": "list", "data": [
        {"id": "qwen-chat", "object": "model", "created": 1, "owned_by": "sglang", "root": "qwen-chat",
         "max_model_len": 32768},
        {"id": "sql-lora", "object": "model", "created": 1, "owned_by": "sglang", "root": "/loras/sql",
         "parent": "qwen-chat"}]})
    tgi.http.expect_request("/v1/models").respond_with_json({"object": "list", "data": [
        {"id": "meta-llama/Llama-3.1-8B-Instruct", "object": "model", "created": 0,
         "owned_by": "meta-llama/Llama-3.1-8B-Instruct"}]})
    ollama.http.expect_request("/v1/models").respond_with_json({"object": "list", "data": [
        {"id": "qwen2.5:7b", "object": "model", "created": 1, "owned_by": "library"},
        {"id": "llama3.1:8b"}]})
    on_sglang = add_model(db, base_url=sglang.url)  # nameless: the one base model
    adapter = add_model(db, base_url=sglang.url, served="sql-lora")
    on_tgi = add_model(db, base_url=tgi.url + "/v1")
    on_ollama = add_model(db, base_url=ollama.url, model_id="llama3.1:8b")
    unknown = str(uuid.uuid4())
    add_messages(db, unknown)
    db.execute("UPDATE llm_models SET base_url = %s WHERE id = %s", (ollama.url, unknown))  # two models there

    result = db.cli("backfill")
    assert result.code == errors.OK, result.out + result.err
    assert name(db, on_sglang) == "qwen-chat"
    assert name(db, adapter) == "sql-lora (LoRA on qwen-chat)"
    assert name(db, on_tgi) == "meta-llama/Llama-3.1-8B-Instruct"
    assert (name(db, on_ollama), row(db, on_ollama)["served_model_name"]) == ("llama3.1:8b", "llama3.1:8b")
    assert name(db, unknown) == f"Unknown vllm model {unknown[:8]}"  # two models: never guessed
    document = json.loads(db.cli("backfill", "--json").out)
    [entry] = document["unresolved_placeholders"]
    assert entry["kind"] == "not_matched" and "serves 2 base models" in entry["reason"]
    # unclaimed first, then its own server's, then the rest: all five served models are candidates
    assert [(c["served_id"], c["endpoint"], bool(c["claimed_by"])) for c in entry["candidates"][:2]] == [
        ("qwen2.5:7b", ollama.url, False), ("llama3.1:8b", ollama.url, True)]
    assert len(entry["candidates"]) == 5
    assert entry["suggested"] == "qwen2.5:7b"  # the one model of its own server that no row claims
