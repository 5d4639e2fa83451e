"""The naming rules on the Python side: one name policy for every writer
(backfill, --assign, rename), and mirrors of the SQL naming rules for code
that runs before pgmodelnames is installed.

The SQL functions in sql/0001_schema (pgmodelnames.looks_like_uuid,
placeholder_name, is_usable_name, trimmed) are the truth; tests/test_naming_rules.py
runs the same inputs through every copy so they cannot drift.

There is no Python copy of placeholder_name(): it lower-cases the provider
with the database's lower(), which follows its LC_CTYPE (under C only ASCII
letters change; under a UTF-8 locale Unicode letters do, and not always as
str.lower() does them: final sigma, dotted I), and strips [[:cntrl:]],
which is locale-dependent too. Only the server can compute it: rename asks
it (sql/rename/placeholder_name.sql before install).
"""

from __future__ import annotations

import re
import unicodedata
import uuid

# Longest name pgmodelnames writes (a served id is cut to fit, a typed name refused).
MAX_NAME_CHARS = 200

# = pgmodelnames.looks_like_uuid(): hyphens optional at the canonical places.
# Used with fullmatch(): a regex "$" would also match before a final newline.
_UUID_SHAPE = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.IGNORECASE)

# = the characters pgmodelnames.trimmed() strips from both ends, as meant: sql/0001
# writes the vertical tab as E'\v', which PostgreSQL 15 reads as the letter v
# (tests/test_naming_rules.py, TRIMMED_BUG).
TRIM_CHARS = " \t\r\n\v\f\u00a0\u200b\u3000\ufeff"

# Invisible or direction-changing characters (zero-width, soft hyphen, bidi
# overrides and isolates, word joiners): kept out of every name written, as
# pgmodelnames.is_usable_name() does not count them as visible.
_INVISIBLE = ({0x00AD, 0x061C, 0x1680, 0x180E, 0x2028, 0x2029, 0x205F, 0xFEFF} | set(range(0x2000, 0x2010))
              | set(range(0x202A, 0x202F)) | set(range(0x2060, 0x2070)) | set(range(0xFFF9, 0xFFFC))
              | set(range(0xE0000, 0xE0080)))  # the last: Unicode tag characters


def unsafe_for_a_terminal(code: int) -> bool:
    """C0 and C1 controls (ESC and CSI start terminal escape sequences, CR
    overwrites a line), DEL, bidi and other invisible characters, and tag
    characters: none reaches an operator's terminal unescaped."""
    return ((code < 0x20 and code not in (0x09, 0x0A)) or 0x7F <= code < 0xA0 or code in _INVISIBLE
            or 0xD800 <= code < 0xE000)


_TERMINAL_ESCAPES = {code: (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000
                            else f"\\U{code:08x}")
                     for code in (*range(0x00, 0x20), *range(0x7F, 0xA0), *_INVISIBLE)
                     if unsafe_for_a_terminal(code)}
_JSON_ESCAPES = {code: "".join(f"\\u{unit:04x}" for unit in
                               (divmod(code - 0x10000, 0x400)[0] + 0xD800, divmod(code - 0x10000, 0x400)[1] + 0xDC00))
                 if code >= 0x10000 else f"\\u{code:04x}"
                 for code in _TERMINAL_ESCAPES}


def terminal_safe(text: str) -> str:
    """TEXT for a terminal: every character unsafe_for_a_terminal() shown as
    its escape (\\x1b, \\u202e, \\U000e0041); newlines and tabs kept."""
    return text.translate(_TERMINAL_ESCAPES)


def json_safe(document: str) -> str:
    """A JSON document with the same characters written as JSON escapes
    (json.dumps leaves C1, bidi and tag characters raw)."""
    return document.translate(_JSON_ESCAPES)


# = the characters pgmodelnames.is_usable_name() lists as not visible, besides [:space:] and [:cntrl:].
_NOT_VISIBLE = frozenset("\u00a0\u00ad\u1680\u180e\u3000\ufeff") | {
    chr(c) for r in ((0x2000, 0x200F), (0x2028, 0x202F), (0x205F, 0x2064)) for c in range(r[0], r[1] + 1)}


def looks_like_uuid(value: str) -> bool:
    """= pgmodelnames.looks_like_uuid()."""
    return 32 <= len(value) <= 36 and _UUID_SHAPE.fullmatch(value) is not None


def trimmed(value: str) -> str:
    """= pgmodelnames.trimmed()."""
    return value.strip(TRIM_CHARS)


def is_usable_name(name: str | None) -> bool:
    """= pgmodelnames.is_usable_name(): a visible character, and not a bare
    UUID once trimmed. [:space:] and [:cntrl:] are read as str.isspace() and
    category Cc, as PostgreSQL reads them under a UTF-8 LC_CTYPE; under
    LC_CTYPE C it counts the C1 controls (U+0080-U+009F) as visible.
    clean_text() output has none, so on the names backfill writes the two agree everywhere."""
    if name is None:
        return False
    visible = any(not (ch.isspace() or unicodedata.category(ch) == "Cc" or ch in _NOT_VISIBLE) for ch in name)
    return visible and not looks_like_uuid(trimmed(name))


def _hidden(ch: str) -> bool:
    code = ord(ch)
    return code < 0x20 or 0x7F <= code < 0xA0 or code in _INVISIBLE or 0xD800 <= code < 0xE000


def has_hidden(value: str) -> bool:
    """Does VALUE hold a control, invisible, bidi or tag character?"""
    return any(_hidden(ch) for ch in value)


def clean_text(value: str, limit: int) -> str:
    """One printable line: control, invisible and bidi-override characters
    removed, whitespace collapsed, at most `limit` characters (ending in … if cut)."""
    kept = [" " if ch.isspace() else ch for ch in value if ch.isspace() or not _hidden(ch)]
    text = " ".join("".join(kept).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class BadName(ValueError):
    """A name a person typed that pgmodelnames will not store, and why."""


def human_name(typed: str, placeholder: str | None = None) -> str:
    """A typed name (rename, --assign) as it will be stored, or BadName saying
    what is wrong: the same length cap and visible-character rules as the
    names backfill writes, refused rather than silently cleaned."""
    name = trimmed(typed)
    if not name:
        raise BadName("the new name is blank: give a readable name, e.g. \"Llama 3.1 8B\"")
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise BadName("the new name contains control characters (newline, tab, ...): use a single line")
    if any(ord(ch) in _INVISIBLE for ch in name):
        if not any(not ch.isspace() and not _hidden(ch) for ch in name):
            raise BadName("the new name has only invisible characters (zero-width or no-break spaces): "
                          "give a readable name")
        raise BadName("the new name contains invisible or text-direction characters (zero-width, bidi "
                      "override), which can make a dashboard show something else: remove them")
    if len(name) > MAX_NAME_CHARS:
        raise BadName(f"the new name is {len(name)} characters long: at most {MAX_NAME_CHARS}")
    if looks_like_uuid(name):
        raise BadName("the new name is a bare UUID, which counts as no name: give a readable name")
    if placeholder is not None and name == placeholder:
        raise BadName(f"{name!r} is this model's placeholder name, which pgmodelnames treats as no real "
                      "name yet: choose another name")
    return name


def parse_model_uuid(text: str) -> uuid.UUID:
    """A model UUID as typed on the command line, or ValueError."""
    return uuid.UUID(text.strip())
