"""backfill --assign through a real pseudo-terminal (pexpect), on both fixture
schemas, against a local server replaying recorded vLLM 0.32 answers: the
walk through the placeholders (most messages first), the plan, the
confirmation, one transaction; and the refusal without a terminal."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pexpect
import pytest

from pgmodelnames import errors
from support import ALICE, BOB, add_model

REPO = Path(__file__).resolve().parent.parent
PROMPT = "number, name, s to skip, q to stop> "


def add_messages(db, model: str, count: int, user: str = ALICE) -> None:
    db.execute("INSERT INTO messages (role, content, model_id, provider, user_id, conversation_id) "
               "SELECT 'assistant', 'hi', %s, 'vllm', %s, gen_random_uuid() FROM generate_series(1, %s)",
               (model, user, count))


def name(db, model: str) -> str:
    return db.value("SELECT name FROM llm_models WHERE id = %s", (model,))


def spawn(db, *args: str) -> pexpect.spawn:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("VLLM_API_KEY", None)
    return pexpect.spawn(sys.executable, ["-m", "pgmodelnames", "--database-url", db.url, "backfill", "--assign",
                                          *args], env=env, cwd=str(REPO), encoding="utf-8", timeout=30,
                         dimensions=(60, 300), logfile=sys.stderr if os.environ.get("PMN_PTY_LOG") else None)


def finish(child: pexpect.spawn) -> tuple[int, str]:
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus, child.before


@pytest.fixture
def three_placeholders(installed_db):
    """Three models known only from messages: 5, 1 and 3 messages."""
    db = installed_db
    most, least, middle = (str(uuid.uuid4()) for _ in range(3))
    add_messages(db, most, 4)
    add_messages(db, most, 1, user=BOB)
    add_messages(db, least, 1)
    add_messages(db, middle, 3)
    return db, most, middle, least


def test_assign_walks_through_the_placeholders_and_applies_in_one_transaction(three_placeholders, vllm_servers):
    db, most, middle, least = three_placeholders
    server = vllm_servers().serve("c1_lora_v1_models")  # tiny-llama and my-adapter (LoRA on tiny-llama)
    child = spawn(db, "--endpoint", server.url)
    child.expect("3 placeholders to name, most messages first")

    child.expect(rf"\[1/3\] {most}")  # most messages first, with the evidence
    # 5 of the 9 messages of the last 7 days
    child.expect("seen in: 5 messages, first .* UTC, last .* UTC, 2 users, 5 conversations, 56% of the last 7 "
                 "days' messages")
    child.expect(r"1\.  tiny-llama\s+base model\s+" + server.url + r"\s+no row yet")
    child.expect(r"2\.  my-adapter\s+LoRA adapter on tiny-llama\s+" + server.url + r"\s+no row yet")
    child.expect(PROMPT)
    child.sendline("7")
    child.expect("no candidate 7: choose 1 to 2")
    child.expect(PROMPT)
    child.sendline("2")

    child.expect(rf"\[2/3\] {middle}")
    child.expect("seen in: 3 messages")
    child.expect(PROMPT)
    child.sendline(f"Unknown vllm model {middle[:8]}")  # its own placeholder name: refused, as rename refuses it
    child.expect("placeholder name")
    child.expect(PROMPT)
    child.sendline("Llama 3.1 8B")

    child.expect(rf"\[3/3\] {least}")
    child.expect(PROMPT)
    child.sendline("s")

    child.expect("plan:")
    child.expect("would name 1 model")
    child.expect(rf"{most}\s+Unknown vllm model {most[:8]}\s+->\s+my-adapter \(LoRA on tiny-llama\)")
    child.expect("would rename 1 model by hand")
    child.expect(rf"{middle}\s+Unknown vllm model {middle[:8]}\s+->\s+'Llama 3\.1 8B'")
    assert name(db, most) == f"Unknown vllm model {most[:8]}"  # nothing written before the confirmation
    child.expect_exact("apply these changes in one transaction? [y/N] ")
    child.sendline("y")
    child.expect("named 1 model")
    code, _ = finish(child)
    assert code == errors.OK

    assert name(db, most) == "my-adapter (LoRA on tiny-llama)"
    assert db.query("SELECT base_url, served_model_name FROM llm_models WHERE id = %s", (most,)) == \
        [(server.url, "my-adapter")]  # where it is served: later passes keep it current
    assert name(db, middle) == "Llama 3.1 8B"
    assert db.value("SELECT count(*) FROM pgmodelnames.machine_names WHERE model_uuid = %s", (middle,)) == 0  # human
    assert name(db, least) == f"Unknown vllm model {least[:8]}"  # skipped

    # The one left: the doctor finds the server through the base_url --assign recorded, sees that
    # tiny-llama is the one served model no row claims, and prints a line that runs as it is.
    doctor = db.cli("doctor")
    assert doctor.code == errors.PROBLEMS_FOUND
    line = f"pgmodelnames backfill --map {least}=tiny-llama"
    assert f"-> {line}\n" in doctor.out
    assert db.cli(*line.split()[1:]).code == errors.OK
    assert db.cli("doctor").code == errors.OK


def test_q_stops_and_a_refused_confirmation_changes_nothing(three_placeholders, vllm_servers):
    db, most, middle, _ = three_placeholders
    server = vllm_servers().serve("b2_two_names_v1_models")
    before = db.query("SELECT to_jsonb(l) FROM llm_models l ORDER BY id")

    child = spawn(db, "--endpoint", server.url)
    child.expect(rf"\[1/3\] {most}")
    child.expect(r"1\.  tiny-llama\s+base model, also served as tiny-alias")
    # One served model, three placeholders: it is the likeliest for none (it cannot be all three).
    child.expect(f"no guess: 'tiny-llama' would also be the likeliest for {middle[:8]}, ")
    child.expect(PROMPT)
    child.sendline("1")
    child.expect(rf"\[2/3\] {middle}")
    child.expect(PROMPT)
    child.sendline("q")
    child.expect("would name 1 model")
    child.expect_exact("apply these changes in one transaction? [y/N] ")
    child.sendline("")
    child.expect("not confirmed: nothing changed")
    assert finish(child)[0] == errors.OK
    assert db.query("SELECT to_jsonb(l) FROM llm_models l ORDER BY id") == before

    child = spawn(db, "--endpoint", server.url)
    child.expect(PROMPT)
    child.sendline("q")
    child.expect("nothing to do: nothing changed")
    assert finish(child)[0] == errors.OK
    assert db.query("SELECT to_jsonb(l) FROM llm_models l ORDER BY id") == before


def test_assign_never_merges_two_models_without_being_told_twice(installed_db, vllm_servers):
    """A model another row has, or one chosen above, is never the likeliest; choosing it asks again and
    names that row; a typed name another model has is warned about, as rename warns."""
    db = installed_db
    server = vllm_servers().serve("c1_lora_v1_models")  # tiny-llama and my-adapter (LoRA on tiny-llama)
    owner = add_model(db, name="Tiny Llama", base_url=server.url, served="tiny-llama")  # a person named it
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    add_messages(db, first, 5)
    add_messages(db, second, 1)
    child = spawn(db)  # the server is found through the owner's base_url

    child.expect(rf"\[1/2\] {first}")
    child.expect(r"1\.  my-adapter\s+LoRA adapter on tiny-llama\s+" + server.url + r"\s+no row yet")
    child.expect(r"2\.  tiny-llama\s+base model\s+" + server.url + rf"\s+row {owner[:8]} 'Tiny Llama'")
    child.expect(f"no guess: 'my-adapter' would also be the likeliest for {second[:8]}, and two placeholders")
    child.expect(PROMPT)
    child.sendline("2")
    child.expect_exact(f"2. tiny-llama is already the model of row {owner} 'Tiny Llama': choosing it gives two "
                       "models one name. Type 2 again to choose it all the same")
    child.expect(PROMPT)
    child.sendline("1")

    child.expect(rf"\[2/2\] {second}")
    child.expect(r"1\.  my-adapter\s+LoRA adapter on tiny-llama\s+" + server.url + rf"\s+chosen above for {first[:8]}")
    child.expect_exact("no guess: every served model already has a row or was chosen above")
    child.expect(PROMPT)
    child.sendline("1")
    child.expect_exact(f"1. my-adapter is already the model of {first} (chosen above): choosing it gives two models")
    child.expect(PROMPT)
    child.sendline("Tiny Llama")
    child.expect_exact(f"note: 1 other model(s) already have the name 'Tiny Llama' (row {owner} 'Tiny Llama'); "
                       "analytics will group them together")

    child.expect(rf"{first}\s+Unknown vllm model {first[:8]}\s+->\s+my-adapter \(LoRA on tiny-llama\)")
    child.expect(rf"{second}\s+Unknown vllm model {second[:8]}\s+->\s+'Tiny Llama'")
    child.expect_exact("apply these changes in one transaction? [y/N] ")
    child.sendline("y")
    code, _ = finish(child)
    assert code == errors.OK
    assert (name(db, first), name(db, second), name(db, owner)) == (
        "my-adapter (LoRA on tiny-llama)", "Tiny Llama", "Tiny Llama")


def test_assign_without_a_terminal_refuses_in_one_line(installed_db):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-m", "pgmodelnames", "--database-url", installed_db.url, "backfill",
                           "--assign"], stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=60)
    assert done.returncode == errors.USAGE
    assert done.stdout == "" and done.stderr.count("\n") == 1
    assert "needs a terminal" in done.stderr and "--map UUID=SERVED_ID" in done.stderr
    assert installed_db.cli("backfill", "--assign").code == errors.USAGE  # pytest's stdin is no terminal either


@pytest.mark.parametrize("other", ["--json", "--watch=5"])
def test_assign_does_not_go_with_json_or_watch(make_db, other):
    result = make_db("minimal", installed=True).cli("backfill", "--assign", other)
    assert result.code == errors.USAGE and "does not go with --json or --watch" in result.err
