"""No command runs a function or operator that someone planted where the
caller's search_path would find it. A role with nothing but CREATE on the
app's schema (public here, and another app schema) plants look-alikes of the
functions and operators pgmodelnames' SQL calls, each a better match than
the built-in for varchar arguments (the app's columns are made varchar), and
each writing down who ran it. Then the owner runs every command, the printed
scripts and the app's inserts: nothing is written down. The same look-alike
does run for the owner under the default search_path (the test could fail)."""

from __future__ import annotations

import subprocess
import uuid

import pytest

from support import closed_port

ATTACKER = "pmn_planter"
# name(arguments) -> the built-in it forwards to
LOOK_ALIKES = {
    "btrim(character varying)": "pg_catalog.btrim($1)",
    "lower(character varying)": "pg_catalog.lower($1)",
    "length(character varying)": "pg_catalog.length($1)",
    "left(character varying, integer)": "pg_catalog.left($1, $2)",
    "md5(character varying)": "pg_catalog.md5($1)",
    "quote_ident(character varying)": "pg_catalog.quote_ident($1)",
    "to_regclass(character varying)": "pg_catalog.to_regclass($1)",
    "string_to_array(character varying, character varying)": "pg_catalog.string_to_array($1, $2)",
    "format(character varying)": "pg_catalog.format($1)",
    "format(character varying, VARIADIC text[])": "pg_catalog.format($1, VARIADIC $2)",
    "pg_get_userbyid(integer)": "pg_catalog.pg_get_userbyid($1::oid)",
}
RETURNS = {"btrim": "text", "lower": "text", "length": "integer", "left": "text", "md5": "text",
           "quote_ident": "text", "to_regclass": "regclass", "string_to_array": "text[]", "format": "text",
           "pg_get_userbyid": "name"}
OPERATORS = [("=", "character varying", "character varying", "pg_catalog.texteq($1::text, $2::text)"),
             ("=", "uuid", "character varying", "pg_catalog.uuid_eq($1, $2::uuid)"),
             ("~*", "character varying", "character varying", "pg_catalog.texticregexeq($1::text, $2::text)"),
             ("||", "character varying", "character varying", "pg_catalog.textcat($1::text, $2::text)")]


def plant(db, schema: str) -> None:
    statements = []
    for signature, body in LOOK_ALIKES.items():
        name = signature.split("(")[0]
        statements.append(f"""
            CREATE FUNCTION {schema}.{signature} RETURNS {RETURNS[name]} LANGUAGE sql AS $$
                INSERT INTO public.planted_calls VALUES (current_user, '{schema}.{name}');
                SELECT {body};
            $$""")
    for number, (op, left, right, body) in enumerate(OPERATORS):
        returns = "text" if op == "||" else "boolean"
        statements.append(f"""
            CREATE FUNCTION {schema}.planted_op_{number}(a {left}, b {right}) RETURNS {returns} LANGUAGE sql AS $$
                INSERT INTO public.planted_calls VALUES (current_user, '{schema} operator {op}');
                SELECT {body.replace('$1', 'a').replace('$2', 'b')};
            $$;
            CREATE OPERATOR {schema}.{op} (LEFTARG = {left}, RIGHTARG = {right},
                                             FUNCTION = {schema}.planted_op_{number})""")
    with db.connect() as conn:
        conn.execute(f"SET ROLE {ATTACKER}")
        for statement in statements:
            conn.execute(statement)


@pytest.fixture
def planted(make_db, request):
    """A database whose app schema (public, or `app` with look-alikes in both) a planter can write to."""
    db = make_db("minimal")
    schema = request.param
    if schema == "app":
        db.execute("ALTER SCHEMA public RENAME TO app; CREATE SCHEMA public")
    db.execute(f"""DO $$ BEGIN CREATE ROLE {ATTACKER} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
                   GRANT CREATE, USAGE ON SCHEMA public TO {ATTACKER};
                   GRANT CREATE, USAGE ON SCHEMA {schema} TO {ATTACKER};
                   CREATE TABLE public.planted_calls (who name, what text);
                   GRANT INSERT ON public.planted_calls TO PUBLIC;
                   ALTER TABLE {schema}.messages ALTER COLUMN provider TYPE varchar(40);
                   ALTER TABLE {schema}.llm_models ALTER COLUMN provider TYPE varchar(40),
                                                   ALTER COLUMN name TYPE varchar(200),
                                                   ALTER COLUMN model_id TYPE varchar(200)""")
    plant(db, "public")
    if schema == "app":
        plant(db, "app")
    db.app_schema = schema
    try:
        yield db
    finally:
        db.execute(f"DROP OWNED BY {ATTACKER}; DROP ROLE {ATTACKER}")


def calls(db) -> list[tuple]:
    return db.query("SELECT who, what FROM public.planted_calls")


@pytest.mark.parametrize("planted", ["public", "app"], indirect=True)
def test_no_command_runs_a_planted_function_or_operator(planted, tmp_path):
    db, schema = planted, planted.app_schema
    # The hazard is real: under the default search_path the owner runs the look-alike.
    with db.connect() as conn:
        conn.execute(f"SET search_path = {schema}, public")
        conn.execute("SELECT btrim('x'::varchar)")
    assert calls(db) == [(db.server.user, f"{schema}.btrim")]
    db.execute("TRUNCATE public.planted_calls")

    def cli(*args: str) -> None:
        result = db.cli("--schema", schema, *args)
        assert "Traceback" not in result.err, result.err

    def psql(script: str) -> None:
        path = tmp_path / "script.sql"
        path.write_text(script)
        done = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db.url, "-f", str(path)],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr

    model = uuid.uuid4()
    db.execute(f"INSERT INTO {schema}.messages (model_id, provider) VALUES (%s, 'vLLM ')", (model,))
    psql(db.cli("--schema", schema, "upgrade", "--sql").out)
    cli("doctor")
    cli("doctor", "--json")
    cli("upgrade")
    db.execute(f"INSERT INTO {schema}.messages (model_id, provider) VALUES (%s, 'vllm')", (uuid.uuid4(),))
    db.execute(f"INSERT INTO {schema}.llm_models (id, name, provider) VALUES (%s, NULL, 'vllm')", (uuid.uuid4(),))
    cli("backfill", "--dry-run")
    cli("backfill", "--endpoint", f"http://127.0.0.1:{closed_port()}", "--timeout", "1")
    cli("backfill", "--json")
    cli("rename", str(model), "Llama by hand")
    cli("current")
    cli("upgrade", "--providers", "vllm,ollama")
    cli("upgrade", "--placeholders", "sweep")
    cli("sweep")
    cli("sweep", "--full", "--json")
    cli("upgrade", "--placeholders", "trigger")
    db.execute("ALTER VIEW {}.model_display_names RESET (security_invoker)".format(schema))
    cli("upgrade")  # a repair
    psql(db.cli("--schema", schema, "upgrade", "--sql").out)
    cli("downgrade", "base")
    cli("upgrade")
    psql(db.cli("--schema", schema, "uninstall", "--sql").out)
    cli("upgrade")
    cli("uninstall")
    assert db.value(f"SELECT count(*) FROM {schema}.llm_models WHERE id = %s", (model,)) == 1
    assert calls(db) == []


def test_a_statement_outside_a_pinned_transaction_is_refused(server):
    """The guard that keeps every statement of the CLI pinned (db.transaction())."""
    from pgmodelnames import config, db

    settings = config.settings(server.url("postgres"), None)
    with db.connect(settings) as conn:
        with pytest.raises(RuntimeError, match="inside db.transaction"):
            conn.execute("SELECT 1")
        with db.transaction(conn):
            assert conn.execute("SHOW search_path").fetchone()[0] == "pg_catalog, pg_temp"
        with db.transaction(conn, read_only=True):
            assert conn.execute("SHOW transaction_read_only").fetchone()[0] == "on"
