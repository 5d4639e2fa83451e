-- Revision 0001: the pgmodelnames schema and the state the package keeps.
--
-- Everything here lives in the package's own schema; the app's tables are not
-- touched. App roles get nothing: the bookkeeping is read only through
-- SECURITY DEFINER functions and by the owner. Idempotent, like every
-- revision: re-running it on a partial or complete install changes nothing
-- that is already there.
SET LOCAL lock_timeout = '5s';

CREATE SCHEMA IF NOT EXISTS pgmodelnames;
COMMENT ON SCHEMA pgmodelnames IS
    'Owned by pgmodelnames (readable model names for LLM analytics). Removed by "pgmodelnames uninstall".';

-- One row: where the package is installed and what it changed, so that a
-- downgrade can restore exactly what was there before.
CREATE TABLE IF NOT EXISTS pgmodelnames.installation (
    singleton          boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    app_schema         text NOT NULL,
    name_was_nullable  boolean,
    installed_at       timestamptz NOT NULL DEFAULT now()
);
INSERT INTO pgmodelnames.installation (app_schema) VALUES ('@app_schema_literal@')
ON CONFLICT (singleton) DO NOTHING;

-- The providers whose unknown model UUIDs get placeholder rows. Stored
-- normalised (lower case, trimmed), the same way the trigger compares them.
-- Change with pgmodelnames.set_covered_providers(...) or "upgrade --providers",
-- which also re-creates the trigger whose WHEN clause lists them.
CREATE TABLE IF NOT EXISTS pgmodelnames.covered_providers (
    provider text PRIMARY KEY CHECK (provider = lower(btrim(provider)) AND provider <> '')
);
-- The default only for a new table: a re-run keeps the operator's choice.
INSERT INTO pgmodelnames.covered_providers
SELECT 'vllm' WHERE NOT EXISTS (SELECT FROM pgmodelnames.covered_providers);

-- Names the package wrote (machine names). A row of llm_models carries a
-- machine name exactly while its name equals the one recorded here (or its
-- own placeholder name); anything else is a human name and is never replaced.
-- No foreign key: llm_models belongs to the app, and a recorded name that no
-- longer matches simply means a human renamed the model.
CREATE TABLE IF NOT EXISTS pgmodelnames.machine_names (
    model_uuid   uuid PRIMARY KEY,
    name         text NOT NULL,
    source       text NOT NULL CHECK (source IN ('placeholder', 'guard', 'server')),
    endpoint     text,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE pgmodelnames.machine_names IS
    'Names written by pgmodelnames. A name that differs from the recorded one was chosen by a human.';

-- Defence in depth: even if a platform grants table rights by default, the
-- bookkeeping reveals nothing to app roles (no policy = no rows for them).
ALTER TABLE pgmodelnames.installation ENABLE ROW LEVEL SECURITY;
ALTER TABLE pgmodelnames.covered_providers ENABLE ROW LEVEL SECURITY;
ALTER TABLE pgmodelnames.machine_names ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON pgmodelnames.installation, pgmodelnames.covered_providers, pgmodelnames.machine_names FROM PUBLIC;

-- Naming rules, shared by the view, the guard, the backfill and the trigger.
-- SQL-standard bodies: parsed once at creation and inlined by the planner, so
-- they cost an analytics query nothing extra and need no search_path.

-- A provider as stored on placeholders: lower case, trimmed, NULL if blank.
CREATE OR REPLACE FUNCTION pgmodelnames.normalized_provider(provider text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN nullif(lower(btrim(provider)), '');

-- Only canonical-position hyphens (optional), so that every match casts to uuid.
CREATE OR REPLACE FUNCTION pgmodelnames.looks_like_uuid(value text)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN length(value) IN (32, 33, 34, 35, 36)
   AND value ~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$';

-- A name without its surrounding white space (including the invisible
-- kinds users paste: no-break, ideographic and zero-width spaces).
CREATE OR REPLACE FUNCTION pgmodelnames.trimmed(value text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN btrim(value, E' \t\r\n\x0b\f\u00a0\u200b\u3000\ufeff');

-- A name worth showing: has at least one visible character, and is not a
-- bare UUID. The character class lists the invisible characters that the
-- regex classes [:space:] and [:cntrl:] do not cover in every locale.
CREATE OR REPLACE FUNCTION pgmodelnames.is_usable_name(name text)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce(
    name ~ E'[^[:space:][:cntrl:]\u00a0\u00ad\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff]'
    AND NOT pgmodelnames.looks_like_uuid(pgmodelnames.trimmed(name)),
    false);

-- "Unknown vllm model fdab6388": distinct per model (first 8 hex digits),
-- says which provider, never a bare UUID. Control characters and absurd
-- lengths in an app-supplied provider are kept out of the name.
CREATE OR REPLACE FUNCTION pgmodelnames.placeholder_name(model_uuid uuid, provider text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN 'Unknown '
    || coalesce(left(regexp_replace(pgmodelnames.normalized_provider(provider), '[[:cntrl:]]', '', 'g'), 40) || ' ', '')
    || 'model ' || left(model_uuid::text, 8);

-- The best name the package can give a row without a usable name of its own:
-- its model_id, then its served_model_name, then its placeholder name.
CREATE OR REPLACE FUNCTION pgmodelnames.machine_name(model_uuid uuid, provider text, model_id text, served_model_name text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN pgmodelnames.is_usable_name(model_id) THEN pgmodelnames.trimmed(model_id)
    WHEN pgmodelnames.is_usable_name(served_model_name) THEN pgmodelnames.trimmed(served_model_name)
    ELSE pgmodelnames.placeholder_name(model_uuid, provider)
END;

-- True when pgmodelnames may (re)name the row: its name is missing, is its
-- own placeholder name, or is the machine name recorded for it. Any other
-- name is a human's. Reads the bookkeeping with the caller's rights: run by
-- the package's owner (backfill, doctor).
CREATE OR REPLACE FUNCTION pgmodelnames.is_replaceable_name(model_uuid uuid, name text, provider text)
RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT NOT pgmodelnames.is_usable_name(name)
        OR pgmodelnames.trimmed(name) = pgmodelnames.placeholder_name(model_uuid, provider)
        OR EXISTS (SELECT FROM pgmodelnames.machine_names AS mn
                    WHERE mn.model_uuid = is_replaceable_name.model_uuid AND mn.name = is_replaceable_name.name);
END;

-- Run one DDL statement on an app table without queueing the app behind it:
-- each attempt waits at most a moment for its lock, and gives way between
-- attempts, so a long transaction elsewhere makes the upgrade retry (and
-- finally fail with lock_not_available) instead of stalling every insert.
-- The number of attempts (default 100, about a minute in all) can be set per
-- session: PGOPTIONS='-c pgmodelnames.lock_attempts=20'.
CREATE OR REPLACE FUNCTION pgmodelnames.execute_with_lock_retries(
    statement text, attempts integer DEFAULT NULL, attempt_timeout text DEFAULT '100ms')
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    max_attempts constant integer :=
        coalesce(attempts, nullif(current_setting('pgmodelnames.lock_attempts', true), '')::integer, 100);
    caller_timeout constant text := current_setting('lock_timeout');
BEGIN
    FOR attempt IN 1 .. max_attempts LOOP
        BEGIN
            PERFORM set_config('lock_timeout', attempt_timeout, true);
            EXECUTE statement;
            PERFORM set_config('lock_timeout', caller_timeout, true);
            RETURN;
        EXCEPTION WHEN lock_not_available THEN
            PERFORM pg_sleep(least(0.02 * attempt, 0.5) * (0.5 + random()));
        END;
    END LOOP;
    RAISE EXCEPTION USING ERRCODE = 'lock_not_available',
        MESSAGE = format('could not lock the table after %s attempts: %s', max_attempts,
                         regexp_replace(btrim(statement), '\s+', ' ', 'g'));
END
$$;

REVOKE EXECUTE ON FUNCTION pgmodelnames.execute_with_lock_retries(text, integer, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pgmodelnames.is_replaceable_name(uuid, text, text) FROM PUBLIC;
