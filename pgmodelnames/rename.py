"""`pgmodelnames rename UUID NAME`: give one model a human name by hand.

A human name is never replaced by pgmodelnames: the model's entry in
pgmodelnames.machine_names (its machine-name / placeholder mark) is removed
in the same transaction. Works before install too (then only the name is
written). Runs as the CLI's database user: a row that row-level security
hides from that user counts as unknown.
"""

from __future__ import annotations

import sys
import unicodedata
import uuid

from psycopg import sql

from pgmodelnames import names, runner
from pgmodelnames.config import Settings
from pgmodelnames.errors import NOT_READY, OK, UNKNOWN_MODEL, USAGE, UserError

def parse_uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        raise UserError(f"not a model UUID: {text!r}", USAGE) from None


def clean_name(name: str) -> str:
    """The name as it will be stored (trimmed), or a UserError saying why not."""
    name = name.strip()
    if not name:
        raise UserError("the new name is blank: give a readable name, e.g. \"Llama 3.1 8B\"", USAGE)
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise UserError("the new name contains control characters (newline, tab, ...): use a single line", USAGE)
    if names.looks_like_uuid(name):
        raise UserError("the new name is a bare UUID, which counts as no name: give a readable name", USAGE)
    return name


def rename(settings: Settings, model: str, new_name: str) -> tuple[str | None, str]:
    """Rename one model; returns (old name, new name)."""
    model_uuid = parse_uuid(model)
    name = clean_name(new_name)
    with runner.connect(settings) as conn, runner.database_errors():
        schema = runner.app_schema(conn, settings)
        table = sql.Identifier(schema, "llm_models")
        if conn.execute("SELECT to_regclass(%s)", [f'"{schema}".llm_models']).fetchone()[0] is None:
            raise UserError(f"no table {schema}.llm_models (set --schema or PGMODELNAMES_SCHEMA)", NOT_READY)
        row = conn.execute(sql.SQL("SELECT name, provider FROM {} WHERE id = %s FOR UPDATE").format(table),
                           [model_uuid]).fetchone()
        if row is None:
            raise UserError(_unknown_message(conn, schema, model_uuid), UNKNOWN_MODEL)
        old_name, provider = row
        installed = conn.execute("SELECT to_regclass('pgmodelnames.machine_names') IS NOT NULL").fetchone()[0]
        if installed:
            placeholder = conn.execute("SELECT pgmodelnames.placeholder_name(%s, %s)",
                                       [model_uuid, provider]).fetchone()[0]
        else:
            placeholder = names.placeholder_name(model_uuid, provider)
        if name == placeholder:
            raise UserError(f"{name!r} is this model's placeholder name, which pgmodelnames treats as "
                            "no real name yet: choose another name", USAGE)
        conn.execute(sql.SQL("UPDATE {} SET name = %s WHERE id = %s").format(table), [name, model_uuid])
        if installed:
            # The model now has a human name: drop its machine-name mark so
            # neither the view (is_placeholder) nor backfill treat it as theirs.
            conn.execute("DELETE FROM pgmodelnames.machine_names WHERE model_uuid = %s", [model_uuid])
        stored = conn.execute(sql.SQL("SELECT name FROM {} WHERE id = %s").format(table),
                              [model_uuid]).fetchone()[0]
        if stored != name:  # e.g. an app trigger rewrote it: do not report success
            raise UserError(f"the database stored {stored!r} instead of {name!r} (a trigger on "
                            f"{schema}.llm_models changed it); nothing was renamed", USAGE)
        twins = conn.execute(sql.SQL("SELECT count(*) FROM {} WHERE name = %s AND id <> %s").format(table),
                             [name, model_uuid]).fetchone()[0]
        conn.commit()
    if twins:
        print(f"pgmodelnames: note: {twins} other model(s) already have the name {name!r}; "
              "analytics will group them together", file=sys.stderr)
    return old_name, name


def _unknown_message(conn, schema: str, model_uuid: uuid.UUID) -> str:
    message = f"no model {model_uuid} in {schema}.llm_models"
    hidden = conn.execute(
        """SELECT c.relrowsecurity AND NOT (r.rolsuper OR r.rolbypassrls)
                  AND (c.relowner <> r.oid OR c.relforcerowsecurity)
             FROM pg_catalog.pg_class c, pg_catalog.pg_roles r
            WHERE c.oid = %s::regclass AND r.rolname = current_user""",
        [f'"{schema}".llm_models']).fetchone()
    if hidden and hidden[0]:
        message += (" visible to this database user (row-level security is on: connect as the "
                    "table owner or a role with BYPASSRLS)")
    return message


def run(settings: Settings, model: str, new_name: str) -> int:
    old, new = rename(settings, model, new_name)
    shown_old = repr(old) if old is not None else "(no name)"
    print(f"pgmodelnames: renamed {parse_uuid(model)}: {shown_old} -> {new!r}")
    return OK
