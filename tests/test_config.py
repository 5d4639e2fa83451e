"""Where a command finds its database and its app schema (config.py), without
a database: --database-url, then DATABASE_URL, then ./alembic.ini; --schema,
then PGMODELNAMES_SCHEMA. The URL rules and redact() are in test_config_urls.py."""

from __future__ import annotations

import pytest

from pgmodelnames import config, errors
from pgmodelnames.errors import UserError


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """A working directory without alembic.ini, and neither variable set."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("PGMODELNAMES_SCHEMA", raising=False)
    return tmp_path


def test_resource_dirs_are_found_from_a_checkout_or_an_install():
    for name, inside in (("migrations", "env.py"), ("sql", "install")):
        found = config.resource_dir(name)
        assert found.is_dir() and (found / inside).exists(), found
        assert found in (config.PACKAGE_DIR / name, config.PACKAGE_DIR.parent / name)


@pytest.mark.parametrize("text, expected", [
    pytest.param("[alembic]\nsqlalchemy.url = postgresql://u@h/db  \n", "postgresql://u@h/db", id="set"),
    pytest.param("[alembic]\nsqlalchemy.url = postgresql://u:100%@h/db\n", "postgresql://u:100%@h/db",
                 id="percent-is-not-interpolated"),
    pytest.param("[alembic]\nsqlalchemy.url =   \n", None, id="blank"),
    pytest.param("[alembic]\nscript_location = migrations\n", None, id="no-url"),
    pytest.param("[other]\nsqlalchemy.url = postgresql://u@h/db\n", None, id="other-section"),
    pytest.param("sqlalchemy.url = postgresql://u@h/db\n", None, id="not-an-ini-file"),
])
def test_alembic_ini(nowhere, text, expected):
    (nowhere / "alembic.ini").write_text(text)
    assert config.url_from_alembic_ini() == expected
    assert config.url_from_alembic_ini(nowhere / "alembic.ini") == expected
    assert config.database_url(None) == expected


def test_no_alembic_ini(nowhere):
    assert config.url_from_alembic_ini() is None
    (nowhere / "alembic.ini").mkdir()  # a directory of that name is not read
    assert config.url_from_alembic_ini() is None


def test_the_database_url_in_order_of_precedence(nowhere, monkeypatch):
    (nowhere / "alembic.ini").write_text("[alembic]\nsqlalchemy.url = postgresql://ini/db\n")
    assert config.database_url(None) == "postgresql://ini/db"
    monkeypatch.setenv("DATABASE_URL", "")
    assert config.database_url(None) == "postgresql://ini/db"  # empty counts as unset
    monkeypatch.setenv("DATABASE_URL", "postgresql://env/db")
    assert config.database_url(None) == "postgresql://env/db"
    assert config.database_url("postgresql://flag/db") == "postgresql://flag/db"
    assert config.database_url("") == "postgresql://env/db"


def test_no_database_url_anywhere(nowhere):
    assert config.database_url(None) is None
    assert config.settings(None, None) == config.Settings(None, None, ())


@pytest.mark.parametrize("schema", ["public", "app", "App Schema", "a" * 63, "PGMODELNAMES", "ü-schema"])
def test_schema_names_accepted(schema):
    assert config.validate_schema(schema) == schema


@pytest.mark.parametrize("schema, shown", [
    pytest.param("", "''", id="empty"),
    pytest.param("a" * 64, repr("a" * 64), id="64-characters"),
    pytest.param("b" * 80, repr("b" * 70), id="shown-cut-at-70"),
    pytest.param('my"schema', repr('my"schema'), id="double-quote"),
    pytest.param("my'schema", repr("my'schema"), id="single-quote"),
    pytest.param("app\nx", repr("app\nx"), id="newline"),
    pytest.param("app\x00", repr("app\x00"), id="nul"),
    pytest.param("{app}", repr("{app}"), id="braces"),  # the SQL templates' placeholders
    pytest.param("pgmodelnames", "'pgmodelnames'", id="the-package-schema"),
])
def test_schema_names_refused(schema, shown):
    with pytest.raises(UserError) as raised:
        config.validate_schema(schema)
    assert (str(raised.value), raised.value.exit_code) == (f"invalid app schema name {shown}", errors.USAGE)


def test_the_schema_in_order_of_precedence(nowhere, monkeypatch):
    assert config.app_schema(None) is None  # as installed, else public
    monkeypatch.setenv("PGMODELNAMES_SCHEMA", "")
    assert config.app_schema(None) is None
    monkeypatch.setenv("PGMODELNAMES_SCHEMA", "from_env")
    assert config.app_schema(None) == "from_env"
    assert config.app_schema("from_flag") == "from_flag"
    monkeypatch.setenv("PGMODELNAMES_SCHEMA", "pgmodelnames")
    with pytest.raises(UserError, match="invalid app schema name 'pgmodelnames'"):
        config.app_schema(None)
    with pytest.raises(UserError, match="invalid app schema name 'bad\"'"):
        config.app_schema('bad"')


def test_settings_from_the_environment(nowhere, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:Qz9pw@h/db")
    monkeypatch.setenv("PGMODELNAMES_SCHEMA", "app")
    found = config.settings(None, None, ("", "vllm-key"))
    assert found == config.Settings(config.to_conninfo("postgresql://u:Qz9pw@h/db")[0], "app", ("Qz9pw", "vllm-key"))
    assert "Qz9pw" not in repr(found)  # the secrets are kept out of any traceback that shows Settings
    assert config.settings("host=other", "flag").schema == "flag"
    assert config.settings("host=other", None).conninfo == "host=other"
