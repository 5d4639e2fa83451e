"""`pgmodelnames rename UUID NAME`: give one model a human name by hand.

A human name is never replaced by pgmodelnames: the model's entry in
pgmodelnames.machine_names (its machine-name / placeholder mark) is removed
in the same transaction. Works before install too (then only the name is
written). Runs as the CLI's database user: a row that row-level security
hides from that user counts as unknown. The SQL lives in sql/rename/.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import psycopg

from pgmodelnames import db, names, sqlfiles
from pgmodelnames.config import Settings
from pgmodelnames.errors import NOT_READY, UNKNOWN_MODEL, USAGE, UserError


@dataclass(frozen=True)
class Renamed:
    model: uuid.UUID
    old_name: str | None
    new_name: str
    same_name_elsewhere: int  # other models already carrying the new name


def parse_uuid(text: str) -> uuid.UUID:
    try:
        return names.parse_model_uuid(text)
    except ValueError:
        raise UserError(f"not a model UUID: {names.clean_text(text, 60)!r}", USAGE) from None


def check_name(typed: str, placeholder: str | None = None) -> str:
    """The name as it will be stored, or a usage error saying what is wrong."""
    try:
        return names.human_name(typed, placeholder)
    except names.BadName as exc:
        raise UserError(str(exc), USAGE) from None


def rename_in(conn: psycopg.Connection, schema: str, model_uuid: uuid.UUID, typed: str) -> Renamed:
    """Rename within the caller's transaction (rename and backfill --assign)."""
    name = check_name(typed)
    params = {"id": model_uuid, "name": name}
    row = conn.execute(sqlfiles.render("rename/lock_model.sql", schema), params).fetchone()
    if row is None:
        raise UserError(_unknown_message(conn, schema, model_uuid), UNKNOWN_MODEL)
    old_name, provider = row
    installed = conn.execute("SELECT to_regclass('pgmodelnames.machine_names') IS NOT NULL").fetchone()[0]
    # Computed by the server: lower() and [[:cntrl:]] follow its LC_CTYPE (see names.py).
    if installed:
        placeholder = conn.execute("SELECT pgmodelnames.placeholder_name(%s, %s)",
                                   [model_uuid, provider]).fetchone()[0]
    else:
        placeholder = conn.execute(sqlfiles.render("rename/placeholder_name.sql"),
                                   {"id": model_uuid, "provider": provider}).fetchone()[0]
    check_name(name, placeholder)
    stored = conn.execute(sqlfiles.render("rename/write_name.sql", schema), params).fetchone()[0]
    if installed:
        conn.execute(sqlfiles.render("rename/forget_machine_name.sql"), params)
    if stored != name:
        raise UserError(f"the database stored {names.clean_text(stored or '', 80)!r} instead of {name!r} "
                        f"(an app trigger on {schema}.llm_models changed it); nothing was renamed", USAGE)
    twins = conn.execute(sqlfiles.render("rename/same_name_count.sql", schema), params).fetchone()[0]
    return Renamed(model_uuid, old_name, name, twins)


def rename(settings: Settings, model: str, new_name: str) -> Renamed:
    """Rename one model in its own transaction; never prints."""
    model_uuid = parse_uuid(model)
    check_name(new_name)  # refused before connecting
    with db.session(settings) as conn, db.transaction(conn):
        schema = db.app_schema(conn, settings)
        if conn.execute("SELECT to_regclass(%s)", [f'"{schema}".llm_models']).fetchone()[0] is None:
            raise UserError(f"no table {schema}.llm_models (set --schema or PGMODELNAMES_SCHEMA)", NOT_READY)
        return rename_in(conn, schema, model_uuid, new_name)


def _unknown_message(conn: psycopg.Connection, schema: str, model_uuid: uuid.UUID) -> str:
    message = f"no model {model_uuid} in {schema}.llm_models"
    hidden = conn.execute(sqlfiles.render("rename/hidden_by_rls.sql", schema)).fetchone()
    if hidden and hidden[0]:
        message += (" visible to this database user (row-level security is on: connect as the "
                    "table owner or a role with BYPASSRLS)")
    return message
