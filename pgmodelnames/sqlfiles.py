"""The package's .sql files, with their @markers@ filled in: the one template
mechanism for sql/.

Markers: @app_schema@ (the app schema as a quoted identifier),
@app_schema_literal@ (the bare name, inside string literals), any @name@
the caller passes as an already-quoted SQL fragment (column lists built from
the catalog), and @include path@, another file of sql/ rendered the same way
in its place (so that one query, such as diagnostics/object_facts.sql, is
written once and used by the doctor, the install and a function body).
Values always travel as query parameters.
"""

from __future__ import annotations

import re

from pgmodelnames.config import resource_dir, validate_schema

SQL_DIR = resource_dir("sql")
_MARKER = re.compile(r"@(?:include ([a-z0-9_/.]+)|([a-z_]+))@")


def render(relative_path: str, app_schema: str | None = None, **fragments: str) -> str:
    text = (SQL_DIR / relative_path).read_text(encoding="utf-8")
    values = dict(fragments)
    if app_schema is not None:
        validate_schema(app_schema)
        values["app_schema"] = '"' + app_schema + '"'
        values["app_schema_literal"] = app_schema

    def fill(match: re.Match) -> str:
        included, name = match.groups()
        if included:
            return render(included, app_schema, **fragments).rstrip()
        if name not in values:
            raise KeyError(f"{relative_path}: no value for @{name}@")
        return values[name]

    return _MARKER.sub(fill, text)


def run_in_migration(relative_path: str, **fragments: str) -> None:
    """Run one SQL file in the current Alembic migration: executed online,
    printed in offline (--sql) mode."""
    from alembic import op

    context = op.get_context()
    schema = context.config.attributes.get("app_schema") if context.config else None
    if schema is None:
        raise RuntimeError("pgmodelnames migrations need the app schema from migrations/env.py")
    sql = render(relative_path, schema, **fragments)
    if context.as_sql:
        context.impl.static_output(sql.rstrip() + "\n")
    else:
        # The raw driver connection: no parameter parsing, so % and : in
        # PL/pgSQL bodies reach PostgreSQL untouched.
        op.get_bind().connection.driver_connection.execute(sql)


def migration_destination() -> str | None:
    """The revision the running Alembic command ends at ('base': none), as
    migrations/env.py resolved it; None when it could not (a relative step)."""
    from alembic import op

    config = op.get_context().config
    return config.attributes.get("destination") if config else None
