"""The UUID-shape test of the trigger's WHEN clause and the history and sweep
scans (pgmodelnames.uuid_shape_test(), revision 0005) accepts exactly what
pgmodelnames.looks_like_uuid() accepts, on each server (PostgreSQL 15 builds
the regex-light form, 16+ the pg_input_is_valid form)."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgmodelnames.names import looks_like_uuid

U = "fdab6388-0c1e-4c5a-9f0e-6b1d2a7c9e41"
EDGES = [
    U, U.upper(), U.replace("-", ""), U.replace("-", "").upper(), "{" + U + "}", "{" + U.replace("-", "") + "}",
    U[:8] + U[9:], U[:13] + U[14:], U[:23] + U[24:], U[:8] + U[9:13] + U[14:],  # canonical hyphens left out
    "fdab-6388-0c1e-4c5a-9f0e-6b1d-2a7c-9e41",  # hyphens after every 4 digits: uuid input accepts, the rule does not
    "fdab-63880c1e4c5a9f0e6b1d2a7c9e41", "fdab63880c1e4c5a9f0e6b1d2a7c-9e41", "fdab63880c1e4c5a9f0e6b1d-2a7c9e41",
    U[:-1] + "g", U[:-1] + "-", "-" + U[1:], U[:9] + "-" + U[10:], "-" * 36, "x" * 36, "0" * 32, "0" * 33,
    " " + U, U + " ", U[:-1], U + "0", U[:8] + "_" + U[9:], U.replace("-", "--", 1),
    "fdab6388-0c1e-4c5a-9f0e-6b1d2a7c9e4é", "ｆdab6388-0c1e-4c5a-9f0e-6b1d2a7c9e41", "gpt-4o-mini",
    "meta-llama/Llama-3.2-3B-Instruct", "", "a" * 10_000, "00000000-0000-0000-0000-000000000000",
    "FDAB6388-0000-4000-8000-00000000000Z", U[:35] + "\n",
]


def _compare(conn, values: list[str]) -> list[str]:
    """The values where the two tests disagree."""
    expression = conn.execute("SELECT pgmodelnames.uuid_shape_test('v.value')").fetchone()[0]
    rows = conn.execute(
        f"SELECT v.value, pgmodelnames.looks_like_uuid(v.value), coalesce({expression}, false) "
        "FROM unnest(%s::text[]) AS v(value)", [values]).fetchall()
    return [value for value, rule, shape in rows if bool(rule) != shape]


def test_same_answers_on_edge_cases(installed_minimal):
    with installed_minimal.connect() as conn:
        assert _compare(conn, EDGES) == []
        assert [looks_like_uuid(v) for v in EDGES] == [
            r[0] for r in conn.execute("SELECT coalesce(pgmodelnames.looks_like_uuid(v), false) "
                                       "FROM unnest(%s::text[]) AS v", [EDGES]).fetchall()]
        # NULL stays unknown (a WHEN clause and a WHERE treat it as false).
        expression = conn.execute("SELECT pgmodelnames.uuid_shape_test('NULL::text')").fetchone()[0]
        assert conn.execute(f"SELECT {expression}").fetchone()[0] in (None, False)


def test_the_form_follows_the_server_version(installed_minimal):
    with installed_minimal.connect() as conn:
        expression = conn.execute("SELECT pgmodelnames.uuid_shape_test('x')").fetchone()[0]
        version = conn.info.server_version
    assert ("pg_input_is_valid" in expression) == (version >= 160000)
    assert "LIKE '________-____-____-____-____________'" in expression


hex_or_noise = st.text(alphabet="0123456789abcdefABCDEF-{}gG xé", min_size=28, max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.one_of(hex_or_noise, st.uuids().map(str), st.uuids().map(lambda u: u.hex),
                                 st.text(max_size=40).filter(lambda s: "\x00" not in s)), min_size=50, max_size=50))
def test_same_answers_on_generated_strings(installed_minimal, values):
    with installed_minimal.connect() as conn:
        assert _compare(conn, values) == []


def test_trigger_uses_it(make_db):
    db = make_db("supabase", installed=True)
    definition = db.value("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'zz_pgmodelnames_placeholder'")
    # LIKE deparses as ~~; 0004's test began with length(), a char count
    assert "~~ '________-____-____-____-____________'" in definition
    assert __import__("re").search(r"(?<!octet_)length\(", definition) is None
    model = str(uuid.uuid4())
    with db.connect() as conn:
        for value in (model.upper(), "{" + model + "}", "gpt-4o-mini"):
            conn.execute("INSERT INTO public.messages (model_id, provider) VALUES (%s, 'vllm')", (value,))
    assert db.query("SELECT id::text FROM public.llm_models") == [(model,)]
