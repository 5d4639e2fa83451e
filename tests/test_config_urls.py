"""Database URLs, fuzzed: config.to_conninfo and config.settings raise nothing
but a usage error (exit 2) for any text, and no error message, nor redact() of
any text holding the URL, shows its password. Then the same at the command line."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from pgmodelnames import config, errors
from pgmodelnames.errors import UserError

MARK = "Zq8Wv"  # in every generated password: any piece of it that leaks carries it

printable = st.characters(blacklist_categories=("Cc", "Cs"))  # letters, digits, punctuation, spaces, symbols
specials = st.sampled_from(list("@:/?#%[]=&'\" \\,"))
passwords = st.tuples(st.text(st.one_of(printable, specials), max_size=12),
                      st.text(st.one_of(printable, specials), max_size=12)).map(lambda t: t[0] + MARK + t[1])
users = st.sampled_from(["u", "postgres", "us er", "u%40x", "", "ü"])
hosts = st.one_of(
    st.sampled_from(["127.0.0.1", "db.example.com", "[::1]", "[::1", "::1", "[fe80::1%25eth0]", "[fe80::1%eth0]",
                     "h1,h2", "a b", "", "[]", "h/", "h?"]),
    st.text(st.one_of(printable, specials), max_size=10))
ports = st.one_of(st.sampled_from(["", ":5432", ":abc", ":", ":99999", ":0", ":-1", ":٣", ":1,x", ": 1", ":65536",
                                   ":5432,5433", ":0x10"]),
                  st.text(st.one_of(printable, specials), max_size=6).map(lambda t: ":" + t))
tails = st.sampled_from(["", "/db", "/d b", "/db?sslmode=require", "?connect_timeout=abc", "/db?foo=bar", "/db#frag",
                         "/db?password=x", "/db?port=x", "/%zz", "/db?host=/tmp&user=a@b"])
schemes = st.sampled_from(["postgresql", "postgres", "postgresql+psycopg", "POSTGRES", "mysql", "http", "postgresql:"])


def _check(url: str, password: str) -> None:
    for resolve in (lambda: config.to_conninfo(url), lambda: config.settings(url, None)):
        try:
            result = resolve()
        except UserError as exc:
            assert exc.exit_code == errors.USAGE == 2
            message = str(exc)
            assert password not in message and MARK not in message, message
            assert "\n" not in message
        else:
            conninfo, secrets = result if isinstance(result, tuple) else (result.conninfo, result.secrets)
            assert MARK not in config.redact(conninfo) and MARK not in config.redact(conninfo, secrets)
    if url.split("://")[0].split("+")[0].lower() not in ("postgres", "postgresql"):
        return  # redact() masks other URLs' user-info only up to a space, / ? or # (it never spans text)
    for text in (url, f"error: {url} (see the docs)", f'connection to "{url}" failed', f"a\n{url}\nb"):
        shown = config.redact(text)
        assert password not in shown and MARK not in shown, shown


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scheme=schemes, user=users, password=passwords, host=hosts, port=ports, tail=tails)
@example(scheme="postgresql", user="u", password="Qz9!k@pw" + MARK, host="127.0.0.1", port="", tail="/db")
@example(scheme="postgresql", user="u", password=MARK + "/x", host="h", port="", tail="/db")
@example(scheme="postgresql", user="u", password="1/" + MARK, host="h", port="", tail="/db")
@example(scheme="postgresql", user="", password="?" + MARK, host="[::1", port="", tail="/db?connect_timeout=abc")
@example(scheme="postgresql", user="us er", password=MARK + " x", host="h", port="", tail="")
@example(scheme="postgresql", user="u%41", password="a:" + MARK + "%?", host="[::1]", port="", tail="/db")
@example(scheme="postgresql", user="u", password=MARK + "?x#y", host="h", port=":abc", tail="/db")
def test_a_url_password_never_shows(scheme, user, password, host, port, tail):
    _check(f"{scheme}://{user}:{password}@{host}{port}{tail}", password)


@settings(max_examples=400, deadline=None)
@given(st.text(min_size=1))
@example("postgresql://")
@example("postgresql://h/db?port=\ud800")
@example("host=h port=")
@example("password='unterminated")
@example("a=b=c")
def test_any_text_is_a_url_or_a_usage_error(text):
    for resolve in (lambda: config.to_conninfo(text), lambda: config.settings(text, None)):
        try:
            resolve()
        except UserError as exc:
            assert exc.exit_code == errors.USAGE


def test_redact_masks_database_urls_whole_and_leaves_other_text_alone():
    assert config.redact("x postgresql://us er:p w/?#@h:5432/db y") == "x postgresql://***@h:5432/db y"
    assert config.redact('"postgres+psycopg://u:p"q@h/db"') == '"postgres+psycopg://***@h/db"'
    assert config.redact("http://user:pw@gpu1:8000/v1") == "http://***@gpu1:8000/v1"
    untouched = '{"url": "http://gpu1:8000", "name": "org@model", "error": null}'
    assert config.redact(untouched) == untouched
    assert config.redact("host=h password='a b' dbname=d") == "host=h password=*** dbname=d"


# ----------------------------------------------------------------- at the command line

@pytest.mark.parametrize("args, forbidden", [
    pytest.param(["--database-url", "postgresql://u:Qz9!k@pw@127.0.0.1/db", "current"], ["Qz9!k", "pw@"],
                 id="unencoded-at-in-password"),
    pytest.param(["--database-url", "postgresql://u:p@h:abc/db", "upgrade", "--sql"], [], id="non-numeric-port"),
    pytest.param(["--database-url", "postgresql://u:Qz9!k/x@h/db", "current"], ["Qz9!k"],
                 id="unencoded-slash-in-password"),
    pytest.param(["--database-url", "postgresql://u:Qz9 k@[::1/db", "current"], ["Qz9 k"], id="space-and-bad-ipv6"),
    pytest.param(["--database-url", "mysql://u:Qz9!k@h/db", "current"], ["Qz9!k"], id="other-scheme"),
    pytest.param(["downgrade", "9999"], [], id="unknown-revision"),
    pytest.param(["--database-url", "{url}?foo=bar", "current"], [], id="unknown-query-parameter"),
    pytest.param(["--database-url", "{url}?connect_timeout=abc", "current"], [], id="non-numeric-connect_timeout"),
])
def test_bad_urls_exit_2_with_one_line(minimal_db, args, forbidden):
    args = [arg.replace("{url}", minimal_db.url) for arg in args]
    url = args[args.index("--database-url") + 1] if "--database-url" in args else minimal_db.url
    result = minimal_db.cli(*[a for a in args if a not in ("--database-url", url)], url=url)
    assert result.code == errors.USAGE == 2, result.err
    assert result.out == ""
    assert result.err.startswith("pgmodelnames: error: ") and result.err.count("\n") == 1, result.err
    for secret in forbidden:
        assert secret not in result.err
