"""Which API key goes to which --endpoint (server_keys.py): no database and
no HTTP, real files in a temporary folder and an environment given as a dict.
Every refusal is a usage error (exit 2) that never shows the key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pgmodelnames import errors, server_keys
from pgmodelnames.errors import UserError
from pgmodelnames.server_keys import ServerKey

GPU1, GPU2 = "http://gpu1:8000", "http://gpu2:8000"
SECRET = "sk-live-0123456789"


def resolve(endpoints=(GPU1,), env=(), files=(), api_key=None, environ=None):
    return server_keys.resolve(list(endpoints), list(env), list(files), api_key, environ or {})


def keyed(keys: tuple[ServerKey, ...]) -> list[tuple[str, str, str, str]]:
    return [(k.url, k.source, k.reference, k.key) for k in keys]


def refused(*args, **kwargs) -> str:
    with pytest.raises(UserError) as caught:
        resolve(*args, **kwargs)
    assert caught.value.exit_code == errors.USAGE == 2
    message = str(caught.value)
    assert "\n" not in message and SECRET not in message
    return message


# ----------------------------------------------------------------- each endpoint its own key

def test_each_endpoint_gets_the_key_given_for_it(tmp_path):
    key_file = tmp_path / "gpu2.key"
    key_file.write_text("  sk-two  \n")
    keys, notes = resolve((GPU1 + "/v1/", GPU2), env=[f"{GPU1}=GPU1_KEY"], files=[f"{GPU2}/v1={key_file}"],
                          environ={"GPU1_KEY": "sk-one", "VLLM_API_KEY": "ambient"})
    assert keyed(keys) == [(GPU1, "env", "GPU1_KEY", "sk-one"), (GPU2, "file", str(key_file), "sk-two")]
    assert notes == []  # every endpoint has its own key: the ambient one is not wanted
    assert [k.shown for k in keys] == ["$GPU1_KEY", str(key_file)]
    assert SECRET not in repr(keys) and "sk-one" not in repr(keys)  # the key is not in the repr


def test_an_endpoint_without_a_key_gets_none():
    keys, _ = resolve((GPU1, GPU2), env=[f"{GPU2}=K"], environ={"K": SECRET})
    assert keyed(keys) == [(GPU2, "env", "K", SECRET)]


def test_a_relative_key_file_is_referred_to_by_its_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("k").write_text(SECRET)
    [key], _ = resolve(files=[f"{GPU1}=k"])
    assert key.reference == str(tmp_path / "k") and os.path.isabs(key.reference)


@pytest.mark.parametrize("item, url, path", [
    pytest.param("http://gpu1:8000=/run/a=b", GPU1, "/run/a=b", id="equals-in-the-path"),
    pytest.param("http://gpu1:8000/x=y=/run/k", "http://gpu1:8000/x=y", "/run/k", id="equals-in-the-url"),
])
def test_an_equals_sign_in_the_url_or_the_path(tmp_path, item, url, path):
    target = tmp_path / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(SECRET)
    [key], _ = resolve((url,), files=[item.replace(path, str(target))])
    assert (key.url, key.reference, key.key) == (url, str(target), SECRET)


def test_the_same_key_given_twice_is_one_key_two_different_ones_are_refused(tmp_path):
    keys, _ = resolve(env=[f"{GPU1}=K", f"{GPU1}/v1=K"], environ={"K": SECRET})
    assert keyed(keys) == [(GPU1, "env", "K", SECRET)]
    key_file = tmp_path / "k"
    key_file.write_text(SECRET)
    assert refused(env=[f"{GPU1}=K"], files=[f"{GPU1}={key_file}"], environ={"K": SECRET}) == \
        f"two keys are given for {GPU1} ($K and {key_file}): give one"


# ----------------------------------------------------------------- --api-key and VLLM_API_KEY

def test_api_key_and_vllm_api_key_are_the_key_of_the_one_endpoint():
    keys, notes = resolve(api_key=SECRET)
    assert keyed(keys) == [(GPU1, "option", "--api-key", SECRET)] and notes == []
    keys, notes = resolve(environ={"VLLM_API_KEY": SECRET})
    assert keyed(keys) == [(GPU1, "env", "VLLM_API_KEY", SECRET)] and notes == []
    keys, _ = resolve(api_key="typed", environ={"VLLM_API_KEY": SECRET})  # the option wins
    assert keyed(keys) == [(GPU1, "option", "--api-key", "typed")]


def test_with_no_endpoint_a_typed_key_goes_nowhere():
    assert resolve((), api_key=SECRET) == ((), [])
    assert resolve((), environ={"VLLM_API_KEY": SECRET}) == ((), [])


def test_with_several_endpoints_api_key_is_refused_and_vllm_api_key_not_sent():
    assert refused((GPU1, GPU2), api_key=SECRET) == (
        "--api-key is the key of the one --endpoint; with several, a key would reach servers it is not for: "
        "give each its own, --api-key-env URL=VAR or --api-key-file URL=PATH")
    keys, notes = resolve((GPU1, GPU2), environ={"VLLM_API_KEY": SECRET})
    assert keys == ()
    assert notes == ["VLLM_API_KEY is set but not sent: several --endpoint are named, and a key goes only to the "
                     "server it is given for; to send it to one: --api-key-env URL=VLLM_API_KEY"]
    # Named for one of them, it goes there only.
    keys, notes = resolve((GPU1, GPU2), env=[f"{GPU2}=VLLM_API_KEY"], environ={"VLLM_API_KEY": SECRET})
    assert keyed(keys) == [(GPU2, "env", "VLLM_API_KEY", SECRET)] and len(notes) == 1


def test_a_key_of_its_own_beats_the_ambient_one_and_clashes_with_a_typed_one():
    keys, notes = resolve(env=[f"{GPU1}=K"], environ={"K": "own", "VLLM_API_KEY": SECRET})
    assert keyed(keys) == [(GPU1, "env", "K", "own")] and notes == []
    assert refused(env=[f"{GPU1}=K"], api_key=SECRET, environ={"K": "own"}) == \
        f"--api-key and a key of its own are both given for {GPU1}: give one"


# ----------------------------------------------------------------- bad input: one line, exit 2, no key

@pytest.mark.parametrize("kwargs, says", [
    pytest.param({"env": [f"{GPU1}=NOT_SET"]},
                 f"--api-key-env '{GPU1}=NOT_SET': the environment variable NOT_SET is not set", id="unknown-variable"),
    pytest.param({"env": [f"{GPU1}=EMPTY"], "environ": {"EMPTY": "", "X": "1"}},
                 "the environment variable EMPTY is empty: no API key in it", id="empty-variable"),
    pytest.param({"env": [f"{GPU1}=SPACED"], "environ": {"SPACED": f"{SECRET} x"}},
                 "the environment variable SPACED: an API key must be printable ASCII without spaces or control "
                 "characters (the key is not shown)", id="key-with-a-space"),
    pytest.param({"env": [f"{GPU1}=CTRL"], "environ": {"CTRL": f"{SECRET}\x1b"}},
                 "the environment variable CTRL: an API key must be printable ASCII", id="key-with-a-control-char"),
    pytest.param({"env": [f"{GPU1}=1BAD"]}, "'1BAD' is not an environment variable name", id="bad-variable-name"),
    pytest.param({"env": [f"{GPU1}="]}, "'' is not an environment variable name", id="no-variable"),
    pytest.param({"env": ["GPU1_KEY"]}, "--api-key-env 'GPU1_KEY': expected URL=VAR, URL one of the --endpoint URLs",
                 id="no-url"),
    pytest.param({"env": [f"{GPU2}=K"], "environ": {"K": SECRET}},
                 f"--api-key-env '{GPU2}=K': no --endpoint names {GPU2}; a key goes only to a server named with "
                 f"--endpoint (add --endpoint {GPU2})", id="url-no-endpoint-names"),
    pytest.param({"env": ["ftp://gpu1=K"], "environ": {"K": SECRET}},
                 "--api-key-env 'ftp://gpu1=K': only http:// and https:// URLs are accepted", id="not-a-url"),
    pytest.param({"env": ["http://u:pw@gpu1:8000=K"], "environ": {"K": SECRET}},
                 "--api-key-env 'http://***@gpu1:8000=K': credentials in the URL are not accepted",
                 id="credentials-masked"),
    pytest.param({"files": [f"{GPU1}=/nonexistent/key"]},
                 f"--api-key-file '{GPU1}=/nonexistent/key': cannot read /nonexistent/key: No such file or directory",
                 id="missing-file"),
    pytest.param({"files": [f"{GPU1}=/"]}, f"--api-key-file '{GPU1}=/': cannot read /: Is a directory",
                 id="a-directory"),
    pytest.param({"files": [f"{GPU1}="]}, "expected URL=PATH, PATH a file name on one line", id="no-path"),
    pytest.param({"files": [f"{GPU1}=/tmp/a\nb"]}, "expected URL=PATH, PATH a file name on one line",
                 id="path-with-a-newline"),
    pytest.param({"api_key": "two words"}, "--api-key: an API key must be printable ASCII", id="typed-key-spaced"),
    pytest.param({"api_key": ""}, "--api-key is empty: no API key in it", id="typed-key-empty"),
    pytest.param({"environ": {"VLLM_API_KEY": "é" + SECRET}},
                 "the environment variable VLLM_API_KEY: an API key must be printable ASCII", id="ambient-key-bad"),
])
def test_bad_input_is_one_line_exit_2_without_the_key(kwargs, says):
    assert says in refused(**kwargs)


@pytest.mark.parametrize("content, says", [
    pytest.param(b"", "is empty: no API key in it", id="empty"),
    pytest.param(b" \n\n", "is empty: no API key in it", id="only-whitespace"),
    pytest.param(SECRET.encode() + b"\nsecond line", "an API key must be printable ASCII", id="two-lines"),
    pytest.param(b"\xff" + SECRET.encode(), "an API key must be printable ASCII", id="not-ascii"),
    pytest.param(b"k" * (server_keys.MAX_KEY_FILE_BYTES + 1), "is larger than 64 KiB: not an API key file",
                 id="too-large"),
])
def test_bad_key_files(tmp_path, content, says):
    key_file = tmp_path / "key"
    key_file.write_bytes(content)
    message = refused(files=[f"{GPU1}={key_file}"])
    assert message.startswith(f"the key file {key_file}") and says in message


def test_an_unreadable_key_file(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text(SECRET)
    key_file.chmod(0)
    if os.access(key_file, os.R_OK):
        pytest.skip("running as a user who reads every file (root)")
    assert refused(files=[f"{GPU1}={key_file}"]).endswith(f"cannot read {key_file}: Permission denied")


# ----------------------------------------------------------------- the reference a printed command carries

def test_a_printed_command_gives_the_key_again_by_its_reference_only():
    by_env = ServerKey(GPU1, "env", "GPU1_KEY", SECRET)
    by_file = ServerKey(GPU1, "file", "/run/secrets/gpu 1.key", SECRET)
    typed = ServerKey(GPU1, "option", "--api-key", SECRET)
    assert by_env.option("http://gpu1:8000/v1") == "--api-key-env http://gpu1:8000/v1=GPU1_KEY"
    assert by_file.option(GPU1) == "--api-key-file 'http://gpu1:8000=/run/secrets/gpu 1.key'"
    assert typed.option(GPU1) == "--api-key-env http://gpu1:8000=VLLM_API_KEY"  # a typed key has no reference
    assert [k.shown for k in (by_env, by_file, typed)] == ["$GPU1_KEY", "/run/secrets/gpu 1.key", "--api-key"]
    assert server_keys.variable_option("http://h:1/a b") == "--api-key-env 'http://h:1/a b=VLLM_API_KEY'"
