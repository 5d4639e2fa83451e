"""Where the database is, which app schema to use, where the package's files are.

The database URL is resolved once, at the command line (or in env.py for
plain `alembic`), into one form: a libpq conninfo string. Every connection
is made from that string; nothing parses the URL again. Anything echoed to
the user goes through redact(), which masks the whole user-info part of a
URL whatever characters it holds, and every known secret.
"""

from __future__ import annotations

import configparser
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgmodelnames.errors import USAGE, UserError

PACKAGE_DIR = Path(__file__).resolve().parent
URL_HELP = "postgresql://USER:PASSWORD@HOST:5432/DBNAME"
# libpq options whose values must be integers; libpq would only say so at connect time.
_INTEGER_OPTIONS = ("port", "connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
                    "keepalives_count", "tcp_user_timeout")
_INTEGER = re.compile(r"-?[0-9]+")


def resource_dir(name: str) -> Path:
    """migrations/ or sql/: inside the installed package, else the checkout root."""
    installed = PACKAGE_DIR / name
    return installed if installed.is_dir() else PACKAGE_DIR.parent / name


@dataclass(frozen=True)
class Settings:
    """What every command needs: the connection (libpq conninfo) and the app schema."""

    conninfo: str | None = field(repr=False)  # holds the password
    schema: str | None
    secrets: tuple[str, ...] = field(default=(), repr=False)


# The user-info part of anything that looks like a URL: everything between
# "scheme://" and the "@" before the host. In a database URL it is whatever
# the line holds up to its last "@" (a password may hold spaces, / ? # and
# quotes, unencoded); in other URLs it cannot span / ? # or spaces, so that
# a line with an http:// URL and a later "@" is not masked in between.
_DB_USERINFO = re.compile(r"(postgres(?:ql)?(?:\+[A-Za-z0-9_]+)?://)[^\n]*@", re.IGNORECASE)
_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^\s/?#]*@(?=[^\s@]*(?:[\s/?#'\"]|$))")
_PASSWORD_OPTION = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
# RFC 3986: what can stand before "://" as a scheme.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """text without passwords: URL user-info, password=... options and known secrets are masked."""
    text = _DB_USERINFO.sub(r"\1***@", text)
    text = _USERINFO.sub(r"\1***@", text)
    text = _PASSWORD_OPTION.sub(r"\1***", text)
    for secret in sorted(secrets, key=len, reverse=True):
        if secret and len(secret) >= 3:
            text = text.replace(secret, "***")
    return text


def _url_secrets(url: str) -> tuple[str, ...]:
    """The password of a URL as written (libpq's messages may echo it)."""
    _, sep, rest = url.partition("://")
    if not sep:
        return ()
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" not in authority:
        return ()
    userinfo = authority.rpartition("@")[0]
    _, colon, password = userinfo.partition(":")
    return (password,) if colon and password else ()


# Everything after a password= (or sslpassword=) option may be a piece of
# it: libpq's parse errors quote the word after an unquoted space in
# key=value form (missing "=" after "WORD"), and a badly encoded query value.
_AFTER_PASSWORD = re.compile(r"password\s*=\s*(.*)", re.IGNORECASE | re.DOTALL)
# Option names are kept readable in those errors (invalid sslmode value: ...).
_LIBPQ_KEYWORDS = frozenset(option.keyword.decode() for option in psycopg.pq.Conninfo.get_defaults())


def _error_secrets(url: str) -> tuple[str, ...]:
    """Whatever may be (part of) a password in a URL that failed to parse,
    to scrub from the error: the text between the first ":" after "://"
    and the last "@", all that follows a password=, and their pieces. Wider
    than _url_secrets (an unencoded / ? # or space in a password moves where
    the authority seems to end), so it only ever masks error messages,
    never the output of a run."""
    found = [match.group(1) for match in _AFTER_PASSWORD.finditer(url)]
    _, sep, rest = url.partition("://")
    if sep and "@" in rest:
        _, colon, password = rest.rpartition("@")[0].partition(":")
        if colon:
            found.append(password)
    pieces = {piece for text in found for piece in (text, *re.split(r"[:@/?#&='\s]+", text))}
    return tuple(p for p in pieces - _LIBPQ_KEYWORDS if p)


def to_conninfo(url: str) -> tuple[str, tuple[str, ...]]:
    """A postgres:// or postgresql:// URL (a +driver suffix is accepted) or a
    key=value conninfo -> (libpq conninfo, secrets to scrub). Any malformed
    input is a one-line usage error that never echoes the password."""
    text = url.strip()
    secrets = _url_secrets(text)
    hidden = (*secrets, *_error_secrets(text))  # what an error message must not show
    scheme, sep, rest = text.partition("://")
    if sep:
        base = scheme.split("+", 1)[0].lower()
        if not _SCHEME.fullmatch(scheme):  # user:password@host://... : no scheme to name, and a password in it
            raise UserError(f"the database URL must look like {URL_HELP}", USAGE)
        if base not in ("postgres", "postgresql"):
            raise UserError(f"unsupported database URL scheme {redact(scheme, hidden)[:40]!r}: use {URL_HELP}",
                            USAGE)
        # libpq reads the user-info up to the first "@" before the first "/".
        authority, _, path = rest.partition("/")
        if authority.count("@") > 1:
            raise UserError("the database URL has an unencoded '@' in its user name or password: "
                            "write it as %40", USAGE)
        # An '@' in the path after no host at all: a '/' in the password moved
        # where the host seems to end (the rest of the password would show as
        # the database name). With a host, an '@' in the database name is its own.
        if ("@" not in authority or authority.endswith("@")) and "@" in re.split(r"[?#]", path, maxsplit=1)[0]:
            raise UserError("the database URL has an '@' after its host: a '/' in the user name or "
                            "password must be written as %2F (and an '@' in the database name as %40)", USAGE)
        text = "postgresql://" + rest
    elif "=" not in text:
        raise UserError(f"the database URL must look like {URL_HELP}", USAGE)
    try:
        params = conninfo_to_dict(text)
    except (psycopg.Error, ValueError, TypeError) as exc:
        reason = " ".join(str(exc).split())
        raise UserError(f"invalid database URL: {redact(reason, hidden)}", USAGE) from None
    secrets = tuple({*secrets, params.get("password") or ""} - {""})
    hidden = (*hidden, *secrets)
    for option in _INTEGER_OPTIONS:
        value = params.get(option)
        if value is None or value == "":
            continue
        for part in str(value).split(","):
            if option == "port" and not part.strip():
                continue  # postgresql://h1,h2:5433: libpq gives h1 the default port
            # ASCII digits: str.isdigit() also takes "²" (which int() refuses) and "٣" (which libpq does).
            if not _INTEGER.fullmatch(part.strip()) or (option == "port" and not 0 < int(part) < 65536):
                raise UserError(f"invalid database URL: {option} {redact(str(value), hidden)[:20]!r} "
                                "is not a valid number", USAGE)
    return make_conninfo(**params), secrets


def url_from_alembic_ini(path: Path = Path("alembic.ini")) -> str | None:
    if not path.is_file():
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path)
    except configparser.Error:
        return None
    return parser.get("alembic", "sqlalchemy.url", fallback="").strip() or None


def database_url(explicit: str | None) -> str | None:
    """--database-url, else DATABASE_URL, else sqlalchemy.url in ./alembic.ini."""
    return explicit or os.environ.get("DATABASE_URL") or url_from_alembic_ini() or None


# Quotes and control characters cannot go into the SQL files' markers; a
# named dollar quote ($fn$) would end one of their function bodies (a bare $$,
# as in a$$b, cannot: they use only named ones).
_BAD_SCHEMA_CHARS = re.compile(r"[\"'\x00-\x1f{}]|\$[A-Za-z_][A-Za-z0-9_]*\$")


def validate_schema(schema: str) -> str:
    if not schema or len(schema) > 63 or _BAD_SCHEMA_CHARS.search(schema) or schema == "pgmodelnames":
        raise UserError(f"invalid app schema name {schema[:70]!r}", USAGE)
    return schema


def app_schema(explicit: str | None) -> str | None:
    """--schema, else PGMODELNAMES_SCHEMA; None means "as installed, else public"."""
    schema = explicit or os.environ.get("PGMODELNAMES_SCHEMA") or None
    return validate_schema(schema) if schema is not None else None


def settings(url: str | None, schema: str | None, extra_secrets: tuple[str, ...] = ()) -> Settings:
    """The one place where a URL and a schema become Settings."""
    resolved = database_url(url)
    conninfo, secrets = to_conninfo(resolved) if resolved else (None, ())
    return Settings(conninfo, app_schema(schema), tuple(s for s in (*secrets, *extra_secrets) if s))
