"""`pgmodelnames rename UUID NAME`: a human name, the placeholder mark cleared, clear refusals."""

from __future__ import annotations

import uuid

import pytest

from pgmodelnames import errors
from pgmodelnames.cli import main as cli_main
from support import ALICE

MODEL = "fdab6388-2c1e-4c5a-9f0e-6b1d2a7c9e41"


def placeholder_via_message(db, model_uuid: str = MODEL) -> None:
    """A vLLM message with an unknown model: the trigger creates its placeholder row."""
    db.execute("INSERT INTO messages (model_id, provider, role) VALUES (%s, 'vllm', 'assistant')", [model_uuid])
    assert db.value("SELECT display_name FROM model_display_names WHERE id = %s", [model_uuid]) \
        == f"Unknown vllm model {model_uuid[:8]}"


def test_rename_gives_a_human_name(installed_db):
    placeholder_via_message(installed_db)
    result = installed_db.cli("rename", MODEL, "  Llama 3.1 8B ")
    assert result.code == errors.OK, result.err
    assert result.out.strip() == f"pgmodelnames: renamed {MODEL}: 'Unknown vllm model fdab6388' -> 'Llama 3.1 8B'"
    assert installed_db.query("SELECT display_name, is_placeholder FROM model_display_names WHERE id = %s",
                              [MODEL]) == [("Llama 3.1 8B", False)]
    assert installed_db.value("SELECT name FROM llm_models WHERE id = %s", [MODEL]) == "Llama 3.1 8B"
    # The placeholder mark is gone: nothing will ever replace this name.
    assert installed_db.value("SELECT count(*) FROM pgmodelnames.machine_names WHERE model_uuid = %s", [MODEL]) == 0
    assert installed_db.cli("doctor").code == errors.OK


def test_rename_adopts_a_machine_name_as_human(installed_minimal):
    installed_db = installed_minimal
    """Renaming to the machine name it already carries makes it a human name."""
    placeholder_via_message(installed_db)
    installed_db.execute("UPDATE pgmodelnames.machine_names SET name = 'llama-3', source = 'server' "
                         "WHERE model_uuid = %s", [MODEL])
    installed_db.execute("UPDATE llm_models SET name = 'llama-3' WHERE id = %s", [MODEL])
    assert installed_db.cli("rename", MODEL, "llama-3").code == errors.OK
    assert installed_db.value("SELECT count(*) FROM pgmodelnames.machine_names") == 0


BAD_NAMES = [
    ("   ", "blank"),
    ("", "blank"),
    (MODEL, "bare UUID"),
    ("FDAB63882C1E4C5A9F0E6B1D2A7C9E41", "bare UUID"),
    ("Llama\n3", "control characters"),
    ("Llama\t3", "control characters"),
    ("Unknown vllm model fdab6388", "placeholder name"),
    ("x" * 100_000, "at most 200"),
    ("\u202eevil", "text-direction"),
    ("Llama\u200b3", "invisible"),
    ("\u200b\u200b", "blank"),
    ("\u2060\u2060", "only invisible characters"),
]


def test_bad_names_are_refused(installed_minimal):
    installed_db = installed_minimal
    placeholder_via_message(installed_db)
    for name, why in BAD_NAMES:
        result = installed_db.cli("rename", MODEL, name)
        assert result.code == errors.USAGE, name
        assert why in result.err and result.out == "", (name, result.err)
    assert installed_db.query("SELECT display_name, is_placeholder FROM model_display_names WHERE id = %s",
                              [MODEL]) == [("Unknown vllm model fdab6388", True)]
    assert installed_db.value("SELECT count(*) FROM pgmodelnames.machine_names WHERE model_uuid = %s", [MODEL]) == 1


def test_unknown_uuid(installed_minimal):
    installed_db = installed_minimal
    other = str(uuid.uuid4())
    result = installed_db.cli("rename", other, "Llama 3.1 8B")
    assert result.code == errors.UNKNOWN_MODEL
    assert result.err.strip() == f"pgmodelnames: error: no model {other} in public.llm_models"


@pytest.mark.unit
def test_not_a_uuid(capsys):
    """Refused before connecting (the URL names no server)."""
    assert cli_main(["--database-url", "postgresql://nobody@127.0.0.1:1/none",
                     "rename", "gpt-4o-mini", "GPT-4o mini"]) == errors.USAGE
    assert "not a model UUID: 'gpt-4o-mini'" in capsys.readouterr().err


def test_rename_before_install(minimal_db):
    minimal_db.execute("INSERT INTO llm_models (id, name, provider) VALUES (%s, NULL, 'vllm')", [MODEL])
    assert minimal_db.cli("rename", MODEL, "Unknown vllm model fdab6388").code == errors.USAGE
    result = minimal_db.cli("rename", MODEL, "Llama 3.1 8B")
    assert result.code == errors.OK, result.err
    assert "(no name) -> 'Llama 3.1 8B'" in result.out
    assert minimal_db.value("SELECT name FROM llm_models WHERE id = %s", [MODEL]) == "Llama 3.1 8B"


def test_duplicate_name_is_allowed_with_a_note(installed_minimal):
    installed_db = installed_minimal
    placeholder_via_message(installed_db)
    other = "3c9a1f07-5b2d-4e8f-a1c3-7d4e5f6a8b90"
    placeholder_via_message(installed_db, other)
    assert installed_db.cli("rename", MODEL, "Llama 3.1 8B").code == errors.OK
    result = installed_db.cli("rename", other, "Llama 3.1 8B")
    assert result.code == errors.OK
    assert "1 other model(s) already have the name 'Llama 3.1 8B'" in result.err


def test_row_hidden_by_rls_is_reported(supabase_db):
    """The CLI runs as its database user: a row RLS hides from it is unknown, and the error says why."""
    role = f"pmn_renamer_{uuid.uuid4().hex[:8]}"
    owner = ALICE
    supabase_db.execute("INSERT INTO llm_models (id, user_id, name, provider, base_url, model_id) "
                        "VALUES (%s, %s, 'x', 'vllm', '', '')", [MODEL, owner])
    supabase_db.execute(f"CREATE ROLE {role} LOGIN IN ROLE authenticated")
    try:
        url = supabase_db.url.replace(f"{supabase_db.server.user}@", f"{role}@", 1)
        result = supabase_db.cli("rename", MODEL, "Llama 3.1 8B", url=url)
        assert result.code == errors.UNKNOWN_MODEL, result.err
        assert "row-level security" in result.err
        assert supabase_db.value("SELECT name FROM llm_models WHERE id = %s", [MODEL]) == "x"
    finally:
        supabase_db.execute(f"DROP OWNED BY {role}")
        supabase_db.execute(f"DROP ROLE {role}")
