"""Today's schema lives in one file (sql/<head revision>/schema.sql) and the
revisions only move between versions: the head definition applied alone
equals `upgrade head` from base; for every revision N, `upgrade head;
downgrade N` equals a fresh `upgrade N`; a database installed by any
revision of pgmodelnames 0.1 (0001-0005, folded into the baseline) upgrades
to exactly today's schema, keeping every row, name and setting; newer
revisions and other app schemas are refused before anything changes."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from catalog import app_rows, snapshot
from pgmodelnames import revisions, sqlfiles
from pgmodelnames.config import resource_dir
from support import ALICE, LEGACY_REVISIONS, legacy_half_install, legacy_install, seed_problem


def _script() -> ScriptDirectory:
    cfg = Config()
    cfg.set_main_option("script_location", str(resource_dir("migrations")))
    return ScriptDirectory.from_config(cfg)


def _psql(db, script: str) -> subprocess.CompletedProcess:
    return subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db.url], input=script,
                          capture_output=True, text=True)


def _without_version_table(catalog: dict) -> dict:
    return {kind: [row for row in rows if "alembic_version" not in str(row)] for kind, rows in catalog.items()}


def test_the_revisions_the_package_knows_are_alembics():
    script = _script()
    assert script.get_heads() == [revisions.HEAD]
    known = {s.revision for s in script.walk_revisions()}
    assert not known & set(revisions.LEGACY)
    assert revisions.LEGACY == LEGACY_REVISIONS
    # Today's schema is the head revision's schema.sql, and that revision installs it.
    folder, = resource_dir("sql").glob(f"{revisions.HEAD}_*")
    assert (folder / "schema.sql").is_file()
    assert f'"{folder.name}/schema.sql"' in Path(script.get_revision(revisions.HEAD).path).read_text()


def test_the_head_definition_alone_equals_upgrade_head_from_base(app_db, make_db):
    """schema.sql applied by hand (one transaction, the pinned search_path) builds
    the same objects, definitions, privileges, settings, comments and owners."""
    upgraded = make_db(app_db.kind)
    upgraded.upgrade()
    folder, = resource_dir("sql").glob(f"{revisions.HEAD}_*")
    definition = sqlfiles.render(f"{folder.name}/schema.sql", "public")
    applied = _psql(app_db, "BEGIN;\nSET LOCAL search_path = pg_catalog, pg_temp;\n" + definition
                    + "\nSELECT pgmodelnames.record_objects();\nCOMMIT;\n")
    assert applied.returncode == 0, applied.stderr
    assert _without_version_table(snapshot(app_db)) == _without_version_table(snapshot(upgraded))
    # And what it recorded is what the catalog shows (nothing differs).
    recorded = "SELECT object, facts FROM pgmodelnames.installed_objects WHERE object NOT LIKE '%alembic%' ORDER BY 1"
    assert app_db.query(recorded) == upgraded.query(recorded)


@pytest.mark.parametrize("target", ["base", *sorted({s.revision for s in _script().walk_revisions()})])
def test_upgrade_head_then_downgrade_equals_a_fresh_upgrade(app_db, make_db, target):
    fresh = make_db(app_db.kind)
    if target != "base":
        fresh.upgrade(target)
    app_db.upgrade()
    assert app_db.cli("downgrade", target).code == 0
    got, want = snapshot(app_db), snapshot(fresh)
    if target == "base":
        # At base only the (empty) pgmodelnames schema and Alembic's table remain.
        got = {k: [r for r in v if "pgmodelnames" not in str(r)] for k, v in got.items()}
    assert got == want


@pytest.mark.parametrize("revision", revisions.EARLIER)
def test_an_earlier_revision_upgrades_to_what_a_fresh_install_makes(app_db, make_db, revision):
    """Install N-1, then upgrade: the same catalog as installing head, every row kept, and the
    trigger of head's shape (a statement trigger: the fixture schemas have no FOREIGN KEY)."""
    fresh = make_db(app_db.kind)
    fresh.upgrade()
    app_db.upgrade(revision)
    assert app_db.value("SELECT count(*) FROM pg_trigger WHERE tgname = 'zz_pgmodelnames_placeholder_insert'") == 0
    model = uuid.uuid4()
    app_db.execute("INSERT INTO public.messages (user_id, model_id, provider) VALUES (%s, %s, 'vllm')",
                   (ALICE, str(model)))
    rows = app_rows(app_db)
    result = app_db.upgrade()
    assert f"upgraded {revision} -> {revisions.HEAD}" in result.out
    assert app_rows(app_db) == rows
    assert snapshot(app_db) == snapshot(fresh)
    report = json.loads(app_db.cli("doctor", "--json").out)
    assert report["changed_outside"] == []
    assert report["trigger_shape"]["installed"] == report["trigger_shape"]["wanted"] == "statement"
    assert app_db.value("SELECT count(*) FROM pg_trigger WHERE tgname = 'zz_pgmodelnames_placeholder_insert'") == 1
    assert app_db.value("SELECT trigger_shape FROM pgmodelnames.sweep_state") == "auto"


@pytest.mark.parametrize("revision", LEGACY_REVISIONS)
def test_a_database_of_pgmodelnames_0_1_upgrades_to_todays_schema_keeping_everything(make_db, revision):
    reference = make_db("minimal")
    seed_problem(reference)
    reference.upgrade()
    if revision >= "0003":
        reference.execute("SELECT pgmodelnames.set_covered_providers(ARRAY['vllm', 'ollama'])")
    db = make_db("minimal")
    seed_problem(db)
    legacy_install(db, revision)
    if revision >= "0002":
        db.execute("UPDATE public.llm_models SET name = 'Llama by hand' "
                   "WHERE id = '22222222-2222-4222-8222-222222222222'")  # a human's name
    if revision >= "0003":
        db.execute("SELECT pgmodelnames.set_covered_providers(ARRAY['vllm', 'ollama'])")
    rows_before = app_rows(db)
    named_before = dict(db.query("SELECT id, name FROM public.llm_models WHERE pgmodelnames.is_usable_name(name)")) \
        if revision >= "0001" else {}

    result = db.cli("upgrade")
    assert result.code == 0, result.err
    assert f"upgraded {revision} -> {revisions.HEAD}" in result.out
    for kind in ("functions", "views", "policies", "constraints", "relations", "schemas"):
        assert snapshot(db)[kind] == snapshot(reference)[kind], kind
    assert db.cli("doctor").code in (0, 1)
    recorded = "SELECT object, facts FROM pgmodelnames.installed_objects ORDER BY 1"
    assert db.query(recorded) == reference.query(recorded)
    # Rows: the app's are kept, and every name someone could read before is unchanged.
    after = app_rows(db)
    assert after["messages"] == rows_before["messages"]
    assert len(after["llm_models"]) >= len(rows_before["llm_models"])
    assert {model: name for model, name in db.query("SELECT id, name FROM public.llm_models")
            if model in named_before} == named_before
    if revision >= "0002":
        assert db.value("SELECT name FROM public.llm_models WHERE id = '22222222-2222-4222-8222-222222222222'") \
            == "Llama by hand"
    if revision >= "0003":
        assert db.value("SELECT array_agg(provider ORDER BY provider) FROM pgmodelnames.covered_providers") \
            == ["ollama", "vllm"]
    # Every orphan of a covered provider has its placeholder.
    assert db.value("""SELECT count(*) FROM public.messages m WHERE lower(btrim(m.provider)) = 'vllm'
                        AND NOT EXISTS (SELECT FROM public.llm_models l WHERE l.id = m.model_id)""") == 0


def test_a_database_of_pgmodelnames_0_1_in_sweep_mode_stays_in_sweep_mode(make_db):
    db = make_db("minimal")
    legacy_install(db, "0005")
    db.execute("SELECT pgmodelnames.set_placeholder_mode('sweep')")
    model = uuid.uuid4()
    db.execute("INSERT INTO public.messages (model_id, provider, user_id) VALUES (%s, 'vllm', %s)", (model, ALICE))
    assert db.cli("upgrade").code == 0
    assert db.value("SELECT mode FROM pgmodelnames.sweep_state") == "sweep"
    assert db.value("SELECT count(*) FROM pg_trigger WHERE tgname = 'zz_pgmodelnames_placeholder'") == 0
    # The install's history pass in sweep mode is the first full sweep.
    assert db.value("SELECT count(*) FROM public.llm_models WHERE id = %s", (model,)) == 1
    assert db.cli("doctor").code == 1  # the new placeholder needs a person, nothing else
    assert {p["code"] for p in json.loads(db.cli("doctor", "--json").out)["problems"]} \
        == {"placeholders_need_a_person"}


@pytest.mark.parametrize("revision", ["0003", "0005", "half-applied 0002"])
def test_a_database_of_pgmodelnames_0_1_downgrades_to_base_and_uninstalls(make_db, revision):
    db = make_db("supabase")
    before = snapshot(db)
    if revision.startswith("half"):
        legacy_half_install(db)  # records 0001, holds part of 0002
        revision = "0001"
    else:
        legacy_install(db, revision)
    result = db.cli("downgrade", "base")
    assert result.code == 0, result.err
    assert f"downgraded {revision} -> base" in result.out
    assert {k: [r for r in v if "pgmodelnames" not in str(r)] for k, v in snapshot(db).items()} == before
    assert db.cli("uninstall").code == 0
    assert snapshot(db) == before


def test_a_revision_of_0_1_is_not_a_target(installed_minimal):
    for command in ("upgrade", "downgrade"):
        result = installed_minimal.cli(command, "0003")
        assert result.code == 2, result.err
        assert "unknown revision '0003': use head, base or one of 0006, 0007" in result.err


def test_the_printed_script_refuses_a_newer_revision_and_changes_nothing(installed_supabase):
    db = installed_supabase
    db.execute("UPDATE pgmodelnames.alembic_version SET version_num = '0099'")
    before = snapshot(db)
    applied = _psql(db, db.cli("upgrade", "--sql").out)
    assert applied.returncode != 0
    assert "this database has pgmodelnames revision 0099, which this pgmodelnames does not know" in applied.stderr
    assert snapshot(db) == before
    online = db.cli("upgrade")
    assert online.code == 4 and "revision 0099" in online.err and online.err.count("\n") == 1


def test_the_printed_script_refuses_another_app_schema(make_db):
    db = make_db("minimal")
    db.execute("ALTER SCHEMA public RENAME TO app; CREATE SCHEMA public")
    assert db.cli("--schema", "app", "upgrade").code == 0
    db.execute("CREATE TABLE public.llm_models (LIKE app.llm_models INCLUDING ALL); "
               "CREATE TABLE public.messages (LIKE app.messages INCLUDING ALL)")
    before = snapshot(db)
    applied = _psql(db, db.cli("--schema", "public", "upgrade", "--sql").out)
    assert applied.returncode != 0
    assert "pgmodelnames is installed for schema 'app', not 'public'" in applied.stderr
    assert snapshot(db) == before
