"""Load the package's .sql files, fill in the app schema, and run them from a migration."""

from __future__ import annotations

from pathlib import Path

from pgmodelnames.config import resource_dir, validate_schema

SQL_DIR = resource_dir("sql")


def render(relative_path: str, app_schema: str) -> str:
    """The SQL of one file with @app_schema@ (quoted identifier) and
    @app_schema_literal@ (the bare name, for string literals) filled in."""
    validate_schema(app_schema)
    text = (SQL_DIR / relative_path).read_text(encoding="utf-8")
    quoted = '"' + app_schema + '"'
    return text.replace("@app_schema_literal@", app_schema).replace("@app_schema@", quoted)


def run_in_migration(relative_path: str) -> None:
    """Run one SQL file in the current Alembic migration: executed online,
    printed in offline (--sql) mode."""
    from alembic import op

    context = op.get_context()
    sql = render(relative_path, context.config.attributes["app_schema"]) if context.config else None
    if sql is None:
        raise RuntimeError("pgmodelnames migrations need the app schema from migrations/env.py")
    if context.as_sql:
        context.impl.static_output(sql.rstrip() + "\n")
    else:
        # The raw driver connection: no parameter parsing, so % and : in
        # PL/pgSQL bodies reach PostgreSQL untouched.
        op.get_bind().connection.driver_connection.execute(sql)


def revision_sql(revision_dir: str) -> tuple[Path, Path]:
    return SQL_DIR / revision_dir / "upgrade.sql", SQL_DIR / revision_dir / "downgrade.sql"
