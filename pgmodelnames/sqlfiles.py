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
        context.impl.static_output(without_comment_lines(sql).rstrip() + "\n")
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


# What starts text that runs to its own end: a quoted string or identifier,
# a dollar-quoted body, a block comment; and a line comment.
_OPENING = re.compile(r"""'|"|/\*|--|\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$""")


def _quoted_spans(sql: str) -> list[tuple[int, int]]:
    """Where SQL holds text PostgreSQL keeps as it is: (start, end) of every
    quoted string or identifier, dollar-quoted body and block comment, in order."""
    spans, at = [], 0
    while (found := _OPENING.search(sql, at)) is not None:
        opening, start = found.group(), found.start()
        if opening == "--":
            end = sql.find("\n", start)
            at = len(sql) if end < 0 else end
            continue
        if opening in ("'", '"'):
            end = found.end()
            while True:  # a doubled quote is the quote itself
                end = sql.find(opening, end)
                if end < 0 or sql.startswith(opening, end + 1) is False:
                    break
                end += 2
        else:
            closing = "*/" if opening == "/*" else opening
            end = sql.find(closing, found.end())
            end = -1 if end < 0 else end + len(closing) - 1
        end = len(sql) if end < 0 else end + 1
        spans.append((start, end))
        at = end
    return spans


def without_comment_lines(sql: str) -> str:
    """SQL without its comment-only lines between statements: the printed
    script must stay under 128 KiB, the longest argument Linux passes to a
    program (`psql -c "$(cat install.sql)"`), and the .sql files' comments are
    for their readers. What PostgreSQL stores is untouched: a line inside a
    quoted string, identifier or dollar-quoted body (a function's, a DO
    block's) stays, and so does a squawk-ignore line (squawk reads the script)."""
    spans = iter(_quoted_spans(sql))
    span = next(spans, None)
    kept, offset = [], 0
    for line in sql.splitlines(keepends=True):
        while span is not None and span[1] <= offset:
            span = next(spans, None)
        inside = span is not None and span[0] < offset < span[1]
        if inside or not line.lstrip().startswith("--") or "squawk-ignore" in line:
            kept.append(line)
        offset += len(line)
    return "".join(kept)
