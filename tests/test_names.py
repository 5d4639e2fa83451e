"""The naming rules on the Python side (names.py), each pinned by examples
without a database: what counts as a UUID, what trimmed() strips, which
names are usable, how served text is cleaned, what a typed name may be.

test_naming_rules.py checks the same rules against the SQL functions, on a
server; these tables hold each line of names.py to its answer here, so the
mutation run (tests/mutation.sh) can tell a rule that is wrong."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, strategies as st

from pgmodelnames import names
from pgmodelnames.names import BadName

U = "fdab6388-0c1e-4c5a-9f0e-6b1d2a7c9e41"
HEX = U.replace("-", "")


@pytest.mark.parametrize("value, expected", [
    pytest.param(U, True, id="canonical"),
    pytest.param(U.upper(), True, id="upper-case"),
    pytest.param(HEX, True, id="32-hex-digits"),
    pytest.param(U[:8] + U[9:], True, id="one-hyphen-left-out"),
    pytest.param(HEX[:31], False, id="31-hex-digits"),
    pytest.param(HEX + "0", False, id="33-hex-digits"),
    pytest.param(U + "0", False, id="37-characters"),
    pytest.param(U.replace("-", "--", 1), False, id="double-hyphen"),
    pytest.param("fdab-6388" + U[8:], False, id="hyphen-misplaced"),
    pytest.param("{" + U + "}", False, id="braces"),
    pytest.param(U + "\n", False, id="final-newline"),
    pytest.param(" " + U, False, id="leading-space"),
    pytest.param(U[:-1] + "g", False, id="letter-g"),
    pytest.param(U[:-1] + "\u0661", False, id="arabic-digit"),
    pytest.param("", False, id="empty"),
])
def test_looks_like_uuid(value, expected):
    assert names.looks_like_uuid(value) is expected


@pytest.mark.parametrize("value, expected", [
    pytest.param(" \t\r\n\v\fx\f\v\n\r\t ", "x", id="ascii-white-space"),
    pytest.param("\u00a0\u200b\u3000\ufeffx\ufeff\u3000\u200b\u00a0", "x", id="no-break-zero-width-ideographic-bom"),
    pytest.param("vicuna-13b-v", "vicuna-13b-v", id="letter-v-is-not-a-vertical-tab"),
    pytest.param(" a  b ", "a  b", id="inside-kept"),
    # str.strip() would take these too; pgmodelnames.trimmed() does not.
    pytest.param("\x1cx\x85", "\x1cx\x85", id="separators-and-NEL-kept"),
    pytest.param("\u2028x\u2029", "\u2028x\u2029", id="line-and-paragraph-separators-kept"),
    pytest.param("\u2003x", "\u2003x", id="em-space-kept"),
])
def test_trimmed(value, expected):
    assert names.trimmed(value) == expected


@pytest.mark.parametrize("name, expected", [
    pytest.param(None, False, id="NULL"),
    pytest.param("", False, id="empty"),
    pytest.param(" ", False, id="space"),
    pytest.param("\t\n", False, id="tab-newline"),
    pytest.param("\x01\x7f", False, id="controls"),
    pytest.param("\u00a0\u00ad\u200b\u2060\u202e\ufeff", False, id="not-visible"),
    pytest.param("\u2064", False, id="invisible-plus"),
    pytest.param("\u2065", True, id="past-the-invisible-range"),
    pytest.param("x", True, id="one-letter"),
    pytest.param("\x01x", True, id="control-and-letter"),
    pytest.param("\u0301", True, id="combining-mark"),
    pytest.param(U, False, id="uuid"),
    pytest.param(HEX.upper(), False, id="uuid-unhyphenated-upper"),
    pytest.param(f"\u00a0{U}\u200b\n", False, id="uuid-padded"),
    pytest.param(f"\x1c{U}", True, id="uuid-after-a-char-trimmed-keeps"),
    pytest.param(f"uuid {U}", True, id="uuid-in-a-name"),
])
def test_is_usable_name(name, expected):
    assert names.is_usable_name(name) is expected


@pytest.mark.parametrize("value, limit, expected", [
    pytest.param("a\x00b\x1bc\x7fd\x9fe", 100, "abcde", id="C0-DEL-C1-removed"),
    pytest.param("a \x20b\u00a0\u2003c\td\ne\u2028f", 100, "a b c d e f", id="white-space-collapsed"),
    pytest.param("\u00adso\u200bft\u2060\u202ed\u2066x\u2069\ufeff\u180e", 100, "softdx", id="invisible-removed"),
    pytest.param("a\u2010b\u2070c\u2065", 100, "a\u2010b\u2070c", id="around-the-invisible-ranges"),
    pytest.param("a\ud800b\udfffc", 100, "abc", id="lone-surrogates-removed"),
    pytest.param("a\ud7ffb\ue000c", 100, "a\ud7ffb\ue000c", id="next-to-the-surrogates-kept"),
    pytest.param("  padded  ", 100, "padded", id="ends-stripped"),
    pytest.param("模型 🚀 ü", 100, "模型 🚀 ü", id="unicode-kept"),
    pytest.param("x" * 10, 10, "x" * 10, id="exactly-the-limit"),
    pytest.param("x" * 11, 10, "x" * 9 + "…", id="one-over"),
    pytest.param("abc    defgh", 5, "abc…", id="cut-at-a-space"),
    pytest.param(" abcdefgh", 5, "abcd…", id="leading-space-gone-before-the-cut"),
])
def test_clean_text(value, limit, expected):
    assert names.clean_text(value, limit) == expected


@pytest.mark.parametrize("typed, expected", [
    pytest.param("Llama 3.1 8B", "Llama 3.1 8B", id="plain"),
    pytest.param("\u00a0 Llama 3\u3000\u200b", "Llama 3", id="trimmed"),
    pytest.param("a  b", "a  b", id="inner-spaces-kept"),
    pytest.param("x" * 200, "x" * 200, id="200-characters"),
    pytest.param(f"Llama {U}", f"Llama {U}", id="uuid-inside-a-name"),
    pytest.param("Unknown vllm model fdab6388", "Unknown vllm model fdab6388", id="without-its-placeholder"),
])
def test_human_name_accepts(typed, expected):
    assert names.human_name(typed) == expected


BLANK = 'the new name is blank: give a readable name, e.g. "Llama 3.1 8B"'
CONTROL = "the new name contains control characters (newline, tab, ...): use a single line"
ONLY_INVISIBLE = ("the new name has only invisible characters (zero-width or no-break spaces): "
                  "give a readable name")
INVISIBLE = ("the new name contains invisible or text-direction characters (zero-width, bidi override), "
             "which can make a dashboard show something else: remove them")
BARE_UUID = "the new name is a bare UUID, which counts as no name: give a readable name"


@pytest.mark.parametrize("typed, placeholder, message", [
    pytest.param("", None, BLANK, id="empty"),
    pytest.param(" \t\u00a0\u200b", None, BLANK, id="only-trimmed-characters"),
    pytest.param("Llama\n3", None, CONTROL, id="newline"),
    pytest.param("Llama\x7f", None, CONTROL, id="DEL"),
    pytest.param("Llama\u0085", None, CONTROL, id="C1-control"),
    pytest.param("\u2060", None, ONLY_INVISIBLE, id="word-joiner-alone"),
    pytest.param("\u2060 \u00ad", None, ONLY_INVISIBLE, id="invisible-and-space"),
    pytest.param("Lla\u200bma", None, INVISIBLE, id="zero-width-inside"),
    pytest.param("\u202egpt-4o", None, INVISIBLE, id="bidi-override"),
    pytest.param("a\u1680b", None, INVISIBLE, id="ogham-space"),
    pytest.param("x" * 201, None, "the new name is 201 characters long: at most 200", id="201-characters"),
    pytest.param(f" {U.upper()} ", None, BARE_UUID, id="bare-uuid"),
    pytest.param(HEX, None, BARE_UUID, id="bare-uuid-unhyphenated"),
    pytest.param(" Unknown vllm model fdab6388 ", "Unknown vllm model fdab6388",
                 "'Unknown vllm model fdab6388' is this model's placeholder name, which pgmodelnames treats as no "
                 "real name yet: choose another name", id="its-placeholder"),
])
def test_human_name_refuses(typed, placeholder, message):
    with pytest.raises(BadName) as refused:
        names.human_name(typed, placeholder)
    assert str(refused.value) == message


@given(st.text(max_size=40))
def test_a_name_rename_accepts_is_usable_as_typed(typed):
    try:
        accepted = names.human_name(typed)
    except BadName:
        return
    assert accepted == names.trimmed(typed) and names.is_usable_name(accepted)
    assert names.clean_text(accepted, names.MAX_NAME_CHARS) == " ".join(accepted.split())


@pytest.mark.parametrize("text", [U, f"  {U}\n", U.upper(), HEX, "{" + U + "}"])
def test_parse_model_uuid(text):
    assert names.parse_model_uuid(text) == uuid.UUID(U)


@pytest.mark.parametrize("text", ["gpt-4o-mini", "", U[:-1], U + "0"])
def test_parse_model_uuid_refuses(text):
    with pytest.raises(ValueError):
        names.parse_model_uuid(text)


# ----------------------------------------------------------------- what a terminal may show

@pytest.mark.parametrize("code, unsafe", [
    (0x00, True), (0x08, True), (0x09, False), (0x0A, False), (0x0B, True), (0x0D, True), (0x1B, True),
    (0x1F, True), (0x20, False), (0x7E, False), (0x7F, True), (0x9B, True), (0x9F, True), (0xA0, False),
    (0xE9, False), (0x200B, True), (0x202E, True), (0x2066, True), (0xD7FF, False), (0xD800, True),
    (0xDFFF, True), (0xE000, False), (0xE0041, True), (0x1F680, False),
])
def test_unsafe_for_a_terminal(code, unsafe):
    assert names.unsafe_for_a_terminal(code) is unsafe


def test_terminal_safe_escapes_exactly_what_is_unsafe():
    for code in [*range(0x00, 0xA1), 0x200B, 0x202E, 0x2066, 0x2069, 0xE0041, 0xE007F, 0x1F680, 0x6A21]:
        ch = chr(code)
        assert (names.terminal_safe(ch) != ch) is names.unsafe_for_a_terminal(code), hex(code)
    assert names.terminal_safe("\x1b") == "\\x1b" and names.terminal_safe("\u202e") == "\\u202e"
    assert names.terminal_safe("\U000e0041") == "\\U000e0041"
    assert names.json_safe("\u202e\U000e0041") == "\\u202e\\udb40\\udc41"
