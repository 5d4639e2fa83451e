-- pgmodelnames, revision 0007: every object pgmodelnames installs, as it is
-- today. Read top-down: the schema and its tables, the functions (each with
-- its search_path, SECURITY DEFINER and privileges beside its body), then
-- what goes into the app's schema: the name constraint and its guard on
-- llm_models, the view, model_display_name(), the trigger on messages.
--
-- This file is the install. It runs inside the one transaction of an
-- install (sql/install/: begin, preflight, plan, lock, this file, record,
-- commit) and converges from any state that transaction accepts: nothing
-- installed, an earlier revision (after sql/0006_baseline/legacy.sql and
-- sql/0007_statement_trigger/upgrade.sql), a
-- half install, a public-only restore, or this very revision (a repair, or
-- the printed script applied a second time). Hence CREATE ... IF NOT EXISTS
-- and CREATE OR REPLACE throughout, and the DDL on the app's tables only
-- where the plan (sql/install/plan.sql) found the object missing or changed:
-- that DDL needs locks the app's inserts wait for, which sql/install/lock.sql
-- took before this file ran, all at once. Run alone (no plan), it makes
-- everything.
--
-- The install runs with search_path = pg_catalog, pg_temp, and every
-- function pins the same: the app's schemas are never on the path, so no
-- look-alike function or operator planted there can ever be chosen, and
-- every app or pgmodelnames object is named with its schema.
-- Dollar quotes are named ($fn$, $do$, $sql$): the app schema's name may
-- contain $$.

CREATE SCHEMA IF NOT EXISTS pgmodelnames;
COMMENT ON SCHEMA pgmodelnames IS
    'Owned by pgmodelnames (readable model names for LLM analytics). Removed by "pgmodelnames uninstall".';


-- ===================================================================== tables
-- App roles get nothing on them: no grant, and row-level security with a
-- deny-all policy (defence in depth: a platform that grants table rights by
-- default still reveals nothing). The owner bypasses row-level security.
-- RLS and the policies are (re)made only where missing: ALTER TABLE and
-- CREATE POLICY lock the table, and machine_names is written by the app's
-- own inserts (through the trigger and the guard).

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
REVOKE ALL ON pgmodelnames.installation FROM PUBLIC;

-- The providers whose unknown model UUIDs get placeholder rows, stored the
-- way the trigger compares them (lower case, trimmed). Changed with
-- set_covered_providers() ("upgrade --providers"), which also re-creates the
-- trigger whose WHEN clause lists them.
CREATE TABLE IF NOT EXISTS pgmodelnames.covered_providers (
    provider text PRIMARY KEY CHECK (provider = lower(btrim(provider)) AND provider <> '')
);
-- The default only for a new table: a re-run keeps the operator's choice.
INSERT INTO pgmodelnames.covered_providers
SELECT 'vllm' WHERE NOT EXISTS (SELECT FROM pgmodelnames.covered_providers);
REVOKE ALL ON pgmodelnames.covered_providers FROM PUBLIC;

-- Names the package wrote (machine names). A row of llm_models carries a
-- machine name exactly while its name equals the one recorded here (or its
-- own placeholder name); anything else is a human name and is never
-- replaced. No foreign key: llm_models belongs to the app, and a recorded
-- name that no longer matches simply means a human renamed the model.
CREATE TABLE IF NOT EXISTS pgmodelnames.machine_names (
    model_uuid   uuid PRIMARY KEY,
    name         text NOT NULL,
    source       text NOT NULL CHECK (source IN ('placeholder', 'guard', 'server')),
    endpoint     text,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE pgmodelnames.machine_names IS
    'Names written by pgmodelnames. A name that differs from the recorded one was chosen by a human.';
REVOKE ALL ON pgmodelnames.machine_names FROM PUBLIC;

-- The placeholder mode and the sweep's progress. One row.
--   mode           trigger: a trigger on messages creates placeholders;
--                  sweep: no trigger, pgmodelnames.sweep() does
--   trigger_shape  auto: a statement trigger where no FOREIGN KEY needs the
--                  row first, else a row trigger (trigger_shape());
--                  row / statement: that shape (set_trigger_shape())
--   prefer         auto: the sweep picks how it reads messages (sweep_method());
--                  index / full: always that way (set_sweep_method())
--   mark_time / mark_number
--                  the high-water mark on messages.<mark_column> (a
--                  timestamptz or an integer column): every committed
--                  covered message below it has its placeholder. NULL: the
--                  next sweep reads all of messages.
--   placeholders_skipped, skip_reason, skipped_at
--                  the last pass that could not create some placeholders
--                  (insert_placeholders()): how many, the first error, when;
--                  the doctor shows them while model ids remain without a row
--   paused_schedule, paused_full_schedule
--                  the pg_cron schedules of the sweeps while trigger mode
--                  has them unscheduled: switching back to sweep mode
--                  schedules them again
--   history_due_since
--                  set when the trigger is (re)made, the mode or the covered
--                  providers change: messages stored before then may lack
--                  their placeholders until history_pass_if_due() runs (the
--                  install runs it in a transaction of its own, right after
--                  committing, so that no app insert waits for its scan).
CREATE TABLE IF NOT EXISTS pgmodelnames.sweep_state (
    singleton          boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    mode               text NOT NULL DEFAULT 'trigger' CHECK (mode IN ('trigger', 'sweep')),
    mode_changed_at    timestamptz NOT NULL DEFAULT now(),
    prefer             text NOT NULL DEFAULT 'auto' CHECK (prefer IN ('auto', 'index', 'full')),
    method             text CHECK (method IN ('column', 'index', 'full')),
    mark_column        name,
    mark_time          timestamptz,
    mark_number        bigint,
    held_back_since    timestamptz,
    -- backend PIDs, which are int4 in PostgreSQL itself:
    -- squawk-ignore prefer-bigint-over-int
    held_back_pids     integer[],
    last_sweep_at      timestamptz,
    last_sweep_seconds double precision,
    last_sweep_created bigint,
    last_full_sweep_at timestamptz,
    sweeps             bigint NOT NULL DEFAULT 0,
    created_total      bigint NOT NULL DEFAULT 0,
    history_due_since  timestamptz,
    placeholders_skipped bigint,
    skip_reason        text,
    skipped_at         timestamptz,
    paused_schedule    text,
    paused_full_schedule text,
    trigger_shape      text NOT NULL DEFAULT 'auto' CHECK (trigger_shape IN ('auto', 'row', 'statement'))
);
COMMENT ON TABLE pgmodelnames.sweep_state IS
    'pgmodelnames: placeholder mode (trigger or sweep) and the sweep''s high-water mark on messages.';
REVOKE ALL ON pgmodelnames.sweep_state FROM PUBLIC;

-- What every object looked like in the catalog right after pgmodelnames
-- wrote it (sql/diagnostics/object_facts.sql). The doctor compares it with
-- the catalog of today and names whatever was changed outside pgmodelnames;
-- the next install or repair puts those objects back.
CREATE TABLE IF NOT EXISTS pgmodelnames.installed_objects (
    object       text PRIMARY KEY,
    facts        jsonb NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE pgmodelnames.installed_objects IS
    'pgmodelnames: each installed object as the catalog showed it after the last install (for the drift check).';
REVOKE ALL ON pgmodelnames.installed_objects FROM PUBLIC;

DO $do$
DECLARE
    bookkeeping regclass;
BEGIN
    FOREACH bookkeeping IN ARRAY ARRAY['pgmodelnames.installation', 'pgmodelnames.covered_providers',
                                       'pgmodelnames.machine_names', 'pgmodelnames.sweep_state',
                                       'pgmodelnames.installed_objects']::regclass[] LOOP
        IF NOT (SELECT c.relrowsecurity FROM pg_catalog.pg_class AS c WHERE c.oid = bookkeeping) THEN
            EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', bookkeeping);
        END IF;
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_policy AS p
                        WHERE p.polrelid = bookkeeping AND p.polname = 'pgmodelnames_owner_only') THEN
            EXECUTE format('CREATE POLICY pgmodelnames_owner_only ON %s AS RESTRICTIVE '
                                      'FOR ALL TO PUBLIC USING (false) WITH CHECK (false)', bookkeeping);
        END IF;
    END LOOP;
END
$do$;



-- ============================================================ naming rules
-- Shared by the view, the guard, the backfill and the trigger. SQL-standard
-- bodies (parsed at creation, so they run the same whatever the caller's
-- search_path). The view and model_display_name() call them with the
-- reader's rights: executable by everyone.

-- A provider as stored on placeholders: lower case, trimmed, NULL if blank.
CREATE OR REPLACE FUNCTION pgmodelnames.normalized_provider(provider text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN nullif(lower(btrim(provider)), '');
GRANT EXECUTE ON FUNCTION pgmodelnames.normalized_provider(text) TO PUBLIC;

-- Only canonical-position hyphens (optional), so that every match casts to uuid.
CREATE OR REPLACE FUNCTION pgmodelnames.looks_like_uuid(value text)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN length(value) IN (32, 33, 34, 35, 36)
   AND value ~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$';
GRANT EXECUTE ON FUNCTION pgmodelnames.looks_like_uuid(text) TO PUBLIC;

-- A name without its surrounding white space (including the invisible kinds
-- users paste: no-break, ideographic and zero-width spaces). The vertical tab
-- is written \x0b: PostgreSQL has no \v escape (E'\v' is the letter v).
CREATE OR REPLACE FUNCTION pgmodelnames.trimmed(value text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN btrim(value, E' \t\r\n\x0b\f\u00a0\u200b\u3000\ufeff');
GRANT EXECUTE ON FUNCTION pgmodelnames.trimmed(text) TO PUBLIC;

-- A name worth showing: has at least one visible character, and is not a
-- bare UUID. The character class lists the invisible characters that the
-- regex classes [:space:] and [:cntrl:] do not cover in every locale.
CREATE OR REPLACE FUNCTION pgmodelnames.is_usable_name(name text)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN coalesce(
    name ~ E'[^[:space:][:cntrl:]\u00a0\u00ad\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff]'
    AND NOT pgmodelnames.looks_like_uuid(pgmodelnames.trimmed(name)),
    false);
GRANT EXECUTE ON FUNCTION pgmodelnames.is_usable_name(text) TO PUBLIC;

-- "Unknown vllm model fdab6388": says which provider, never a bare UUID,
-- and carries the UUID's first 8 hex digits; a placeholder whose 8 digits
-- another model's name already has carries more of its UUID, one group at a
-- time (width 13, 18, 23, 36: "Unknown vllm model fdab6388-1399"), so that
-- distinct models always get distinct names (distinct_placeholder_name()).
-- Control characters and absurd lengths in an app-supplied provider are
-- kept out of the name.
CREATE OR REPLACE FUNCTION pgmodelnames.placeholder_name(model_uuid uuid, provider text, width integer)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN 'Unknown '
    || coalesce(
        left(regexp_replace(pgmodelnames.normalized_provider(provider), '[[:cntrl:]]', '', 'g'), 40)
        || ' ', '')
    || 'model ' || left(model_uuid::text, width);
GRANT EXECUTE ON FUNCTION pgmodelnames.placeholder_name(uuid, text, integer) TO PUBLIC;

CREATE OR REPLACE FUNCTION pgmodelnames.placeholder_name(model_uuid uuid, provider text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN pgmodelnames.placeholder_name(model_uuid, provider, 8);
GRANT EXECUTE ON FUNCTION pgmodelnames.placeholder_name(uuid, text) TO PUBLIC;

-- Is NAME one of this model's placeholder names (any width)?
CREATE OR REPLACE FUNCTION pgmodelnames.is_placeholder_name(name text, model_uuid uuid, provider text)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN pgmodelnames.trimmed(name) IN (pgmodelnames.placeholder_name(model_uuid, provider, 8),
                                      pgmodelnames.placeholder_name(model_uuid, provider, 13),
                                      pgmodelnames.placeholder_name(model_uuid, provider, 18),
                                      pgmodelnames.placeholder_name(model_uuid, provider, 23),
                                      pgmodelnames.placeholder_name(model_uuid, provider, 36));
GRANT EXECUTE ON FUNCTION pgmodelnames.is_placeholder_name(text, uuid, text) TO PUBLIC;

-- A served id that is a path says little: vLLM started from a local folder
-- serves the folder's path as the model's id. Shown as the folder's name
-- (/models/qwen2.5-7b-instruct -> qwen2.5-7b-instruct), and a Hugging Face
-- cache snapshot as its repository (.../models--meta-llama--Llama-3.2-3B-Instruct/
-- snapshots/0cb88a4f... -> meta-llama/Llama-3.2-3B-Instruct). Only the name
-- shown: model_id keeps the served id, which requests need. Any other id is
-- itself. (served_models.readable_id() is the same rule for the names
-- backfill writes; tests/test_naming_rules.py holds the two together.)
CREATE OR REPLACE FUNCTION pgmodelnames.readable_model_id(value text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN CASE
    WHEN value ~ '(^|/)models--[^/]+--[^/]+/snapshots/[^/]+/?$'
        THEN (regexp_match(value, '(?:^|/)models--([^/]+?)--([^/]+)/snapshots/[^/]+/?$'))[1]
             || '/' || (regexp_match(value, '(?:^|/)models--([^/]+?)--([^/]+)/snapshots/[^/]+/?$'))[2]
    WHEN value ~ '^(/|\./|\.\./|~/)' AND rtrim(value, '/') ~ '[^/]$'
        THEN substring(rtrim(value, '/') FROM '[^/]+$')
    ELSE value
END;
GRANT EXECUTE ON FUNCTION pgmodelnames.readable_model_id(text) TO PUBLIC;

-- The best name the package can give a row without a usable name of its own:
-- its model_id, then its served_model_name (each as readable_model_id()
-- shows it), then its placeholder name.
CREATE OR REPLACE FUNCTION pgmodelnames.machine_name(model_uuid uuid, provider text, model_id text,
                                                     served_model_name text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN CASE
    WHEN pgmodelnames.is_usable_name(pgmodelnames.readable_model_id(pgmodelnames.trimmed(model_id)))
        THEN pgmodelnames.readable_model_id(pgmodelnames.trimmed(model_id))
    WHEN pgmodelnames.is_usable_name(model_id) THEN pgmodelnames.trimmed(model_id)
    WHEN pgmodelnames.is_usable_name(pgmodelnames.readable_model_id(pgmodelnames.trimmed(served_model_name)))
        THEN pgmodelnames.readable_model_id(pgmodelnames.trimmed(served_model_name))
    WHEN pgmodelnames.is_usable_name(served_model_name) THEN pgmodelnames.trimmed(served_model_name)
    ELSE pgmodelnames.placeholder_name(model_uuid, provider)
END;
GRANT EXECUTE ON FUNCTION pgmodelnames.machine_name(uuid, text, text, text) TO PUBLIC;

-- True when pgmodelnames may (re)name the row: its name is missing, is its
-- own placeholder name, or is the machine name recorded for it. Any other
-- name is a human's. Reads the bookkeeping with the caller's rights, so only
-- the owner (backfill, doctor) may call it.
CREATE OR REPLACE FUNCTION pgmodelnames.is_replaceable_name(model_uuid uuid, name text, provider text)
RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN NOT pgmodelnames.is_usable_name(name)
    OR pgmodelnames.is_placeholder_name(name, model_uuid, provider)
    OR EXISTS (SELECT FROM pgmodelnames.machine_names AS mn
                WHERE mn.model_uuid = is_replaceable_name.model_uuid
                  AND mn.name = is_replaceable_name.name);
REVOKE ALL ON FUNCTION pgmodelnames.is_replaceable_name(uuid, text, text) FROM PUBLIC;

-- The UUID-shape test of looks_like_uuid(), as SQL text around an
-- expression, for the trigger's WHEN clause and the history and sweep scans
-- (hot paths must not call a function: a function with a SET clause is
-- never inlined). Exactly the same rule (tests/test_uuid_shape.py compares
-- them), in an order that costs a canonical 36-character UUID about an
-- eighth of the regular expression (BENCHMARKS.md):
--   * 36 characters with hyphens at the four canonical places (LIKE, no
--     regex): the other 32 must be hex digits. PostgreSQL 16+ asks the uuid
--     input function (pg_input_is_valid: no error raised, and it accepts
--     exactly these strings, since braces or other hyphen places need other
--     lengths); older servers check that exactly four hyphens are removable
--     and that only hex digits and hyphens are left, with a regular
--     expression so simple it runs in a fraction of the full one;
--   * 32 characters: 32 hex digits, the same way;
--   * 33 to 35 characters (some canonical hyphens left out, rare): the full
--     regular expression.
-- Chosen by the server version when the statement is built (at install, so
-- a printed --sql script adapts when it runs). Plain ids such as
-- gpt-4o-mini fail the LIKE and the length tests and never reach a regex.
CREATE OR REPLACE FUNCTION pgmodelnames.uuid_shape_test(value_sql text)
RETURNS text LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN format(
    '(CASE WHEN %1$s LIKE %2$L THEN %3$s WHEN octet_length(%1$s) = 32 THEN %4$s '
    'ELSE octet_length(%1$s) BETWEEN 33 AND 35 AND %1$s ~* %5$L END)',
    value_sql,
    '________-____-____-____-____________',
    CASE WHEN current_setting('server_version_num')::integer >= 160000
         THEN format('pg_input_is_valid(%s, %L)', value_sql, 'uuid')
         ELSE format('octet_length(replace(%1$s, %2$L, %3$L)) = 32 AND %1$s ~* %4$L',
                                value_sql, '-', '', '^[-0-9a-f]+$')
    END,
    CASE WHEN current_setting('server_version_num')::integer >= 160000
         THEN format('pg_input_is_valid(%s, %L)', value_sql, 'uuid')
         ELSE format('%s ~* %L', value_sql, '^[0-9a-f]+$')
    END,
    '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$');
REVOKE ALL ON FUNCTION pgmodelnames.uuid_shape_test(text) FROM PUBLIC;


-- ===================================================== locks on app tables
-- Run one DDL statement on an app table without queueing the app behind it:
-- each attempt waits at most a moment for its lock and gives way between
-- attempts, so a long transaction elsewhere makes the caller retry (and
-- finally fail with lock_not_available) instead of stalling every insert.
-- The number of attempts (default 100, about a minute in all) can be set per
-- session: PGOPTIONS='-c pgmodelnames.lock_attempts=20'.
CREATE OR REPLACE FUNCTION pgmodelnames.execute_with_lock_retries(
    statement text, attempts integer DEFAULT NULL, attempt_timeout text DEFAULT '100ms')
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
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
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.execute_with_lock_retries(text, integer, text) FROM PUBLIC;


-- ======================================================= the name guard
-- Fills llm_models.name on INSERT/UPDATE when the app leaves it missing, so
-- the NOT NULL constraint below never fails an app write. Runs as its owner
-- so app roles need no rights on the pgmodelnames schema to keep writing
-- their own registry. Optional columns (model_id, served_model_name) are
-- read through to_jsonb, so one function serves every shape of llm_models;
-- llm_models writes are rare.
CREATE OR REPLACE FUNCTION pgmodelnames.llm_models_name_guard()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    row_json    jsonb;
    better_name text;
BEGIN
    IF pgmodelnames.is_usable_name(NEW.name)
       AND NOT pgmodelnames.is_placeholder_name(NEW.name, NEW.id, NEW.provider) THEN
        RETURN NEW;  -- a real name: never touched
    END IF;
    row_json := to_jsonb(NEW);
    better_name := pgmodelnames.machine_name(NEW.id, NEW.provider,
                                             row_json ->> 'model_id', row_json ->> 'served_model_name');
    IF pgmodelnames.is_placeholder_name(better_name, NEW.id, NEW.provider) THEN
        -- A placeholder name is replaced only by something better than
        -- itself, and one is made distinct from the names already there.
        IF pgmodelnames.is_usable_name(NEW.name) THEN
            RETURN NEW;
        END IF;
        better_name := pgmodelnames.distinct_placeholder_name(NEW.id, NEW.provider);
    END IF;
    IF better_name IS NULL OR better_name = NEW.name THEN
        RETURN NEW;
    END IF;
    NEW.name := better_name;
    BEGIN
        INSERT INTO pgmodelnames.machine_names AS mn (model_uuid, name, source)
        VALUES (NEW.id, better_name, 'guard')
        ON CONFLICT (model_uuid) DO UPDATE
            SET name = EXCLUDED.name, source = EXCLUDED.source, endpoint = NULL, recorded_at = now();
    EXCEPTION WHEN OTHERS THEN
        -- Bookkeeping must never fail the app's write (e.g. a serialization
        -- failure at REPEATABLE READ); the name itself is still filled.
        RAISE WARNING 'pgmodelnames: could not record machine name for %: %', NEW.id, SQLERRM;
    END;
    RETURN NEW;
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.llm_models_name_guard() FROM PUBLIC;


-- ========================================== registering a placeholder's model
-- The app, or a person following the usual advice, registers a model by
-- hand: INSERT INTO llm_models (id, ...) VALUES ('<the UUID from messages>',
-- ...). Once messages have named that UUID it has a placeholder row, and the
-- INSERT would fail with a bare duplicate key. Instead the person's row
-- takes the placeholder's place: the placeholder row is deleted and the
-- INSERT goes on with every column they gave (their own row-level security
-- policies apply to it as to any insert, and if it fails the deletion is
-- undone with it); the bookkeeping forgets the placeholder, so no backfill
-- ever touches the name they chose. No message is touched.
--
-- Not where any FOREIGN KEY references llm_models: deleting the row would
-- fire the key's ON DELETE action (a cascade, or a check that fails at once)
-- before the new row exists. There, and where the placeholder row is not
-- visible to this function (FORCE ROW LEVEL SECURITY), a plain INSERT fails
-- as before with a unique violation (23505), whose message says that the row
-- is pgmodelnames' placeholder and whose hint gives what works; an upsert
-- (INSERT ... ON CONFLICT, as its statement spells it: a trigger cannot see
-- the clause itself) goes on as without pgmodelnames and updates the row.
--
-- pgmodelnames' own placeholder inserts skip this trigger (its WHEN clause
-- reads pgmodelnames.inserting_placeholders); a row a person inserts under
-- a placeholder's name is itself a placeholder and takes nothing over.
CREATE OR REPLACE FUNCTION pgmodelnames.llm_models_adopt_placeholder()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    existing record;
    blocker  text;
BEGIN
    SELECT l.name, l.provider INTO existing FROM @app_schema@.llm_models AS l WHERE l.id = NEW.id;
    IF NOT FOUND
       OR pgmodelnames.is_placeholder_name(NEW.name, NEW.id, NEW.provider)
       OR NOT (pgmodelnames.is_placeholder_name(existing.name, NEW.id, existing.provider)
               OR EXISTS (SELECT FROM pgmodelnames.machine_names AS mn
                           WHERE mn.model_uuid = NEW.id AND mn.source = 'placeholder' AND mn.name = existing.name))
    THEN
        RETURN NEW;  -- a new model, our own insert, or a real row: as without pgmodelnames
    END IF;
    SELECT format('%s references llm_models', c.conrelid::regclass) INTO blocker
      FROM pg_catalog.pg_constraint AS c
     WHERE c.contype = 'f' AND c.confrelid = TG_RELID
     LIMIT 1;
    IF blocker IS NULL THEN
        DELETE FROM @app_schema@.llm_models AS l WHERE l.id = NEW.id;
        IF NOT FOUND THEN
            blocker := 'row-level security hides the placeholder row from its owner (FORCE ROW LEVEL SECURITY)';
        END IF;
    END IF;
    IF blocker IS NOT NULL AND current_query() ~* '\mON\s+CONFLICT\M' THEN
        RETURN NEW;  -- the upsert's own DO UPDATE / DO NOTHING takes it from here
    ELSIF blocker IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'unique_violation',
            MESSAGE = format('model %s already has a row in llm_models: the placeholder pgmodelnames made for it '
                             '(%s), which it cannot replace here (%s)', NEW.id, existing.name, blocker),
            HINT = format('update that row instead: UPDATE %s.llm_models SET name = ..., model_id = ..., ... '
                          'WHERE id = %L; or name it with: pgmodelnames rename %s "NAME"',
                          '@app_schema@', NEW.id, NEW.id);
    END IF;
    DELETE FROM pgmodelnames.machine_names AS mn WHERE mn.model_uuid = NEW.id;
    RETURN NEW;
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.llm_models_adopt_placeholder() FROM PUBLIC;


-- ============================================================ placeholders
-- A placeholder llm_models row for every model UUID of a covered provider
-- that messages name and llm_models does not know: for new messages by the
-- trigger (trigger mode) or the sweep (sweep mode), for the history by one
-- set-based pass.

-- The placeholder name of a model about to get its row: the narrowest width
-- that no other model's name in llm_models already has. Reads llm_models
-- by name (no index needed: the registry is small, and this runs only when a
-- placeholder is made, never on the insert path of a known model).
CREATE OR REPLACE FUNCTION pgmodelnames.distinct_placeholder_name(model_uuid uuid, provider text)
RETURNS text LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
RETURN coalesce(
    (SELECT candidate.name
       FROM unnest(ARRAY[8, 13, 18, 23]) WITH ORDINALITY AS w(width, rank)
      CROSS JOIN LATERAL (SELECT pgmodelnames.placeholder_name(model_uuid, provider, w.width) AS name) AS candidate
      WHERE NOT EXISTS (SELECT FROM @app_schema@.llm_models AS l
                         WHERE pgmodelnames.trimmed(l.name) = candidate.name AND l.id <> model_uuid)
      ORDER BY w.rank
      LIMIT 1),
    pgmodelnames.placeholder_name(model_uuid, provider, 36));
REVOKE ALL ON FUNCTION pgmodelnames.distinct_placeholder_name(uuid, text) FROM PUBLIC;

-- Placeholders are made with 8 digits, and those that share them with a
-- name already there get more: every placeholder but the first made (then
-- the first by UUID) of each shared name gets its next width, until all
-- names differ. Set-based, after each insert of placeholders: one pass over
-- llm_models grouped by name, instead of a look-up per placeholder, which
-- would keep a history pass of thousands of models (and the app's inserts
-- waiting for it) busy for seconds. Returns how many it renamed.
CREATE OR REPLACE FUNCTION pgmodelnames.widen_shared_placeholder_names()
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    renamed bigint := 0;
    round   bigint;
BEGIN
    PERFORM set_config('pgmodelnames.inserting_placeholders', 'on', true);  -- the guard has nothing to do
    LOOP
        WITH shared AS (
            SELECT l.id, l.provider, l.name,
                        row_number() OVER (PARTITION BY l.name ORDER BY mn.recorded_at, l.id) AS place
              FROM @app_schema@.llm_models AS l
              JOIN pgmodelnames.machine_names AS mn
                ON mn.model_uuid = l.id AND mn.source = 'placeholder' AND mn.name = l.name
             WHERE l.name IN (SELECT o.name FROM @app_schema@.llm_models AS o GROUP BY o.name HAVING count(*) > 1)
        ),
        widened AS (
            UPDATE @app_schema@.llm_models AS l
               SET name = pgmodelnames.placeholder_name(l.id, l.provider,
                              CASE length(s.name) - length(pgmodelnames.placeholder_name(l.id, l.provider, 0))
                                   WHEN 8 THEN 13 WHEN 13 THEN 18 WHEN 18 THEN 23 ELSE 36 END)
              FROM shared AS s
             WHERE s.id = l.id AND s.place > 1
            RETURNING l.id, l.name)
        UPDATE pgmodelnames.machine_names AS mn SET name = w.name, recorded_at = now()
          FROM widened AS w WHERE mn.model_uuid = w.id;
        GET DIAGNOSTICS round = ROW_COUNT;
        EXIT WHEN round = 0;
        renamed := renamed + round;
    END LOOP;
    PERFORM set_config('pgmodelnames.inserting_placeholders', 'off', true);
    RETURN renamed;
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.widen_shared_placeholder_names() FROM PUBLIC;

-- The INSERT that creates placeholders from a source query with columns
-- (id uuid, provider text, user_id text). Built from the catalog when called
-- (only on the rare miss and once per history pass), so it fits whatever
-- optional columns llm_models has today: enabled gets false, NOT NULL text
-- columns without a default get '' (an empty base_url means "no endpoint
-- known"). Whose placeholder it is: nobody's, where user_id may be NULL. A
-- placeholder stands for a model that several users' messages may name, so
-- it belongs to none of them (shown to each of them wherever the app's
-- policies show rows without an owner), and no user's message can make a row
-- that another user then cannot see or take over. Where user_id is NOT NULL
-- the app demands an owner: the message's user.
CREATE OR REPLACE FUNCTION pgmodelnames.placeholder_insert_sql(source_query text)
RETURNS text LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    target  constant regclass := '@app_schema@.llm_models'::regclass;
    columns text := 'id, name, provider';
    vals    text := 'src.id, pgmodelnames.placeholder_name(src.id, src.provider), src.provider';
    col     record;
BEGIN
    FOR col IN
        SELECT a.attname, a.atttypid, format_type(a.atttypid, a.atttypmod) AS type_name,
               a.attnotnull AND d.adbin IS NULL AND a.attidentity = '' AND a.attgenerated = '' AS needs_value
          FROM pg_catalog.pg_attribute a
          LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE a.attrelid = target AND a.attnum > 0 AND NOT a.attisdropped
           AND a.attname NOT IN ('id', 'name', 'provider')
         ORDER BY a.attnum
    LOOP
        IF col.attname = 'user_id' THEN
            IF col.needs_value THEN
                columns := columns || ', user_id';
                vals := vals || format(', src.user_id::%s', col.type_name);
            END IF;
        ELSIF col.attname = 'enabled' AND col.atttypid = 'boolean'::regtype THEN
            columns := columns || ', enabled';
            vals := vals || ', false';
        ELSIF col.needs_value THEN
            columns := columns || format(', %I', col.attname);
            vals := vals || format(', %L::%s', '', col.type_name);
        END IF;
    END LOOP;
    RETURN format($sql$
        WITH created AS (
            INSERT INTO %s AS l (%s)
            SELECT %s FROM (%s) AS src
            ON CONFLICT (id) DO NOTHING
            RETURNING l.id, l.name)
        INSERT INTO pgmodelnames.machine_names AS mn (model_uuid, name, source)
        SELECT id, name, 'placeholder' FROM created
        ON CONFLICT (model_uuid) DO UPDATE
            SET name = EXCLUDED.name, source = EXCLUDED.source, endpoint = NULL, recorded_at = now()
        $sql$, target, columns, vals, source_query);
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.placeholder_insert_sql(text) FROM PUBLIC;

-- Placeholders from a source query (as placeholder_insert_sql() takes it),
-- set-based. If the one statement fails (an app CHECK or a NOT NULL that one
-- placeholder breaks, another unique index), each model is tried on its
-- own, so that one bad placeholder never stops the others: what fails is
-- skipped, counted and named in sweep_state (the doctor shows it) and in a
-- WARNING. A cancel or a lock timeout is not a bad placeholder: it stops the
-- pass. Returns how many placeholders it created.
CREATE OR REPLACE FUNCTION pgmodelnames.insert_placeholders(source_query text)
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    created   bigint := 0;
    skipped   bigint := 0;
    reason    text;
    first_bad uuid;
    src       record;
BEGIN
    BEGIN
        PERFORM set_config('pgmodelnames.inserting_placeholders', 'on', true);
        EXECUTE pgmodelnames.placeholder_insert_sql(source_query);
        GET DIAGNOSTICS created = ROW_COUNT;
        PERFORM set_config('pgmodelnames.inserting_placeholders', 'off', true);
        IF created > 0 THEN
            PERFORM pgmodelnames.widen_shared_placeholder_names();
        END IF;
        RETURN created;
    EXCEPTION
        WHEN query_canceled OR lock_not_available OR serialization_failure OR deadlock_detected THEN
            RAISE;
        WHEN OTHERS THEN
            NULL;  -- one by one, below
    END;
    FOR src IN EXECUTE format('SELECT s.id, s.provider, s.user_id FROM (%s) AS s', source_query) LOOP
        BEGIN
            PERFORM set_config('pgmodelnames.inserting_placeholders', 'on', true);
            EXECUTE pgmodelnames.placeholder_insert_sql('SELECT $1 AS id, $2 AS provider, $3 AS user_id')
              USING src.id, src.provider, src.user_id;
            PERFORM set_config('pgmodelnames.inserting_placeholders', 'off', true);
            created := created + 1;
        EXCEPTION
            WHEN query_canceled OR lock_not_available OR serialization_failure OR deadlock_detected THEN
                RAISE;
            WHEN OTHERS THEN
                skipped := skipped + 1;
                reason := coalesce(reason, SQLERRM);
                first_bad := coalesce(first_bad, src.id);
        END;
    END LOOP;
    PERFORM pgmodelnames.widen_shared_placeholder_names();
    UPDATE pgmodelnames.sweep_state
       SET placeholders_skipped = skipped, skip_reason = left(reason, 300), skipped_at = now();
    RAISE WARNING 'pgmodelnames: % placeholder(s) could not be created (first: model %): %; created the other %',
        skipped, first_bad, reason, created;
    RETURN created;
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.insert_placeholders(text) FROM PUBLIC;

-- The rare path: one placeholder for one message. Raises on failure; the
-- trigger decides what a failure means.
CREATE OR REPLACE FUNCTION pgmodelnames.create_placeholder(model_uuid uuid, provider text, user_id text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    -- Sessions creating the same placeholder take turns, so that a later one
    -- meets the committed row in ON CONFLICT's pre-check instead of racing a
    -- speculative insert: at SERIALIZABLE that race leaves read/write
    -- dependencies in both directions and fails the app's commit.
    PERFORM pg_advisory_xact_lock(1885957486, hashtext(model_uuid::text));
    PERFORM set_config('pgmodelnames.inserting_placeholders', 'on', true);
    EXECUTE pgmodelnames.placeholder_insert_sql('SELECT $1 AS id, $2 AS provider, $3 AS user_id')
      USING model_uuid, pgmodelnames.normalized_provider(provider), user_id;
    PERFORM set_config('pgmodelnames.inserting_placeholders', 'off', true);
    PERFORM pgmodelnames.widen_shared_placeholder_names();
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.create_placeholder(uuid, text, text) FROM PUBLIC;

-- The row trigger functions, one per type of messages.model_id (the row
-- shape, and in the statement shape the UPDATE of model_id or provider).
-- The trigger's WHEN clause (install_placeholder_trigger()) has already
-- checked that model_id is not NULL, that the provider is covered and,
-- for a text column, that it looks like a UUID (so the cast cannot fail):
-- a known model costs one primary-key probe. The rare miss enters the only subtransaction, which
-- is what lets concurrent inserts of one new UUID all succeed at REPEATABLE
-- READ and SERIALIZABLE, and turns any other failure into a WARNING: no
-- message insert ever fails because of pgmodelnames. A lost race is success:
-- at REPEATABLE READ and SERIALIZABLE, ON CONFLICT DO NOTHING raises
-- serialization_failure exactly when a concurrent transaction has committed
-- the same id since this one's snapshot. SECURITY DEFINER, so app roles
-- without rights on llm_models (or an RLS policy that would refuse the row)
-- still get their placeholder.
CREATE OR REPLACE FUNCTION pgmodelnames.messages_placeholder_uuid()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    PERFORM FROM @app_schema@.llm_models WHERE id = NEW.model_id;
    IF FOUND THEN
        RETURN NEW;
    END IF;
    BEGIN
        PERFORM pgmodelnames.create_placeholder(NEW.model_id, NEW.provider, to_jsonb(NEW) ->> 'user_id');
    EXCEPTION
        WHEN serialization_failure THEN
            NULL;  -- created meanwhile by a concurrent session
        WHEN OTHERS THEN
            RAISE WARNING 'pgmodelnames: no placeholder for model %: % (the message was stored)', NEW.model_id, SQLERRM;
    END;
    RETURN NEW;
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.messages_placeholder_uuid() FROM PUBLIC;

CREATE OR REPLACE FUNCTION pgmodelnames.messages_placeholder_text()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    model_uuid constant uuid := NEW.model_id::uuid;
BEGIN
    PERFORM FROM @app_schema@.llm_models WHERE id = model_uuid;
    IF FOUND THEN
        RETURN NEW;
    END IF;
    BEGIN
        PERFORM pgmodelnames.create_placeholder(model_uuid, NEW.provider, to_jsonb(NEW) ->> 'user_id');
    EXCEPTION
        WHEN serialization_failure THEN
            NULL;  -- created meanwhile by a concurrent session
        WHEN OTHERS THEN
            RAISE WARNING 'pgmodelnames: no placeholder for model %: % (the message was stored)', model_uuid, SQLERRM;
    END;
    RETURN NEW;
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.messages_placeholder_text() FROM PUBLIC;

-- ------------------------------------------------- the statement-level shape
-- Where no FOREIGN KEY needs the llm_models row before the message is
-- checked, one pass per statement instead of one call per row: an AFTER
-- INSERT statement trigger reads the statement's new rows (its transition
-- table, new_messages) once, grouped by model and provider, and looks up
-- only the distinct models. A bulk INSERT or COPY of a million rows then
-- costs one hash aggregate, not a million plpgsql calls and key probes
-- (BENCHMARKS.md). The whole pass is one subtransaction per statement: any
-- failure becomes a WARNING and the statement's rows stay stored.

-- Placeholders for models one statement named: set-based (insert_placeholders()),
-- after taking the same per-model turns as create_placeholder(), in one
-- order (two statements naming the same new models never deadlock). Past
-- 256 models in one statement (a bulk import of history), no turns: that
-- many advisory locks would crowd the shared lock table, and without them
-- the only cost is that a concurrent SERIALIZABLE statement naming the same
-- new models may fail its commit. If a concurrent transaction committed one
-- of the models since this one's snapshot (REPEATABLE READ, SERIALIZABLE),
-- each model is tried on its own and the ones already there are skipped.
-- Returns how many placeholders it created.
CREATE OR REPLACE FUNCTION pgmodelnames.create_placeholders(ids uuid[], providers text[], user_ids text[])
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    created bigint := 0;
BEGIN
    IF cardinality(ids) <= 256 THEN
        PERFORM pg_advisory_xact_lock(1885957486, turn.key)
           FROM (SELECT DISTINCT hashtext(i::text) AS key FROM unnest(ids) AS i ORDER BY 1) AS turn;
    END IF;
    BEGIN
        created := pgmodelnames.insert_placeholders(format(
            'SELECT * FROM unnest(%L::uuid[], %L::text[], %L::text[]) AS s(id, provider, user_id)',
            ids, providers, user_ids));
    EXCEPTION WHEN serialization_failure THEN
        FOR i IN 1 .. cardinality(ids) LOOP
            BEGIN
                created := created + pgmodelnames.insert_placeholders(format(
                    'SELECT %L::uuid AS id, %L::text AS provider, %L::text AS user_id',
                    ids[i], providers[i], user_ids[i]));
            EXCEPTION WHEN serialization_failure THEN
                NULL;  -- created meanwhile by a concurrent session
            END;
        END LOOP;
    END;
    RETURN created;
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.create_placeholders(uuid[], text[], text[]) FROM PUBLIC;

-- The pass over a statement's new rows that finds its new models: the
-- query, for messages.model_id's type and for a registry that does or does
-- not demand an owner (user_id NOT NULL without a default:
-- placeholder_insert_sql()). It groups the rows by (model id, provider) in
-- a MATERIALIZED CTE first, so that per row there is only the hash
-- aggregate, and the provider's normalisation, the UUID-shape test and the
-- cast of a TEXT id (behind the test, in a CASE: no id that is not a UUID
-- can ever reach it) run once per distinct id. Run with EXECUTE, so that it
-- is planned for the statement's real size: a plan PostgreSQL cached for a
-- one-row statement (nested loops) would cost a bulk statement seconds.
-- Returns (ids, providers, user ids), ordered by id; NULLs when nothing is new.
CREATE OR REPLACE FUNCTION pgmodelnames.statement_pass_sql(messages_table regclass)
RETURNS text LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT format($sql$
        WITH named AS MATERIALIZED (
            SELECT n.model_id AS key, n.provider FROM new_messages AS n WHERE n.model_id IS NOT NULL GROUP BY 1, 2),
        wanted AS MATERIALIZED (
            SELECT DISTINCT ON (g.id) g.id, g.key, g.provider
              FROM (SELECT %1$s AS id, named.key, lower(btrim(named.provider)) AS provider FROM named) AS g
             WHERE g.id IS NOT NULL
               AND g.provider IN (SELECT c.provider FROM pgmodelnames.covered_providers AS c)
               AND NOT EXISTS (SELECT FROM @app_schema@.llm_models AS l WHERE l.id = g.id)
             ORDER BY g.id, g.provider, g.key)
        SELECT array_agg(w.id ORDER BY w.id), array_agg(w.provider ORDER BY w.id), %2$s
          FROM wanted AS w
        $sql$,
        CASE WHEN type.is_uuid THEN 'named.key'
             ELSE 'CASE WHEN pgmodelnames.looks_like_uuid(named.key) THEN named.key::uuid END' END,
        CASE WHEN owner.needed
             THEN '(SELECT array_agg(o.user_id ORDER BY o.id)
                      FROM (SELECT w.id, min(to_jsonb(n) ->> ''user_id'') AS user_id
                              FROM wanted AS w LEFT JOIN new_messages AS n ON n.model_id = w.key
                             GROUP BY w.id) AS o)'
             ELSE 'NULL::text[]' END)
      FROM (SELECT a.atttypid = 'uuid'::regtype AS is_uuid
              FROM pg_catalog.pg_attribute AS a
             WHERE a.attrelid = messages_table AND a.attname = 'model_id') AS type,
           (SELECT EXISTS (SELECT FROM pg_catalog.pg_attribute AS a
                             LEFT JOIN pg_catalog.pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                            WHERE a.attrelid = '@app_schema@.llm_models'::regclass AND a.attname = 'user_id'
                              AND a.attnotnull AND d.adbin IS NULL) AS needed) AS owner
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.statement_pass_sql(regclass) FROM PUBLIC;

-- The statement trigger functions, one per type of messages.model_id. A
-- statement of up to 64 rows (the app's own inserts) is first asked, with
-- one cached plan, whether any row names an unknown model of a covered
-- provider: for a known model that is all (a probe of the primary key per
-- row). If one does, a second cached query gathers its new models (few
-- rows: no plan of it can go far wrong, and planning it anew would cost a
-- brand-new model's insert a third of a millisecond). A bigger statement
-- runs statement_pass_sql() instead.
-- All of it is one subtransaction per statement: a failure is a WARNING,
-- never the app's error. For a TEXT id the question holds the UUID-shape
-- test written out for the canonical 36-character form (the one apps
-- store; uuid_shape_test()'s, and looks_like_uuid()'s rule), and calls
-- looks_like_uuid() only for the other lengths it allows: a SQL function
-- with a SET clause is planned again in every statement that calls it.
CREATE OR REPLACE FUNCTION pgmodelnames.messages_placeholders_uuid_statement()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    ids       uuid[];
    providers text[];
    user_ids  text[];
BEGIN
    BEGIN
        PERFORM FROM new_messages OFFSET 64 LIMIT 1;
        IF FOUND THEN
            EXECUTE pgmodelnames.statement_pass_sql(TG_RELID) INTO ids, providers, user_ids;
        ELSE
            PERFORM FROM new_messages AS n
             WHERE n.model_id IS NOT NULL
               AND EXISTS (SELECT FROM pgmodelnames.covered_providers AS c WHERE c.provider = lower(btrim(n.provider)))
               AND NOT EXISTS (SELECT FROM @app_schema@.llm_models AS l WHERE l.id = n.model_id);
            IF NOT FOUND THEN
                RETURN NULL;
            END IF;
            SELECT array_agg(u.id ORDER BY u.id), array_agg(u.provider ORDER BY u.id), array_agg(u.user_id ORDER BY u.id)
              INTO ids, providers, user_ids
              FROM (SELECT g.id, min(g.provider) AS provider, min(g.user_id) AS user_id
                      FROM (SELECT n.model_id AS id,
                                   lower(btrim(n.provider)) AS provider, to_jsonb(n) ->> 'user_id' AS user_id
                              FROM new_messages AS n
                             WHERE n.model_id IS NOT NULL
                               AND EXISTS (SELECT FROM pgmodelnames.covered_providers AS c
                                            WHERE c.provider = lower(btrim(n.provider)))) AS g
                     WHERE g.id IS NOT NULL
                       AND NOT EXISTS (SELECT FROM @app_schema@.llm_models AS l WHERE l.id = g.id)
                     GROUP BY g.id) AS u;
        END IF;
        IF ids IS NOT NULL THEN
            PERFORM pgmodelnames.create_placeholders(ids, providers, user_ids);
        END IF;
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'pgmodelnames: no placeholders for % new model(s) (first: %): % (the messages were stored)',
            coalesce(cardinality(ids), 0), ids[1], SQLERRM;
    END;
    RETURN NULL;
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.messages_placeholders_uuid_statement() FROM PUBLIC;

CREATE OR REPLACE FUNCTION pgmodelnames.messages_placeholders_text_statement()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    ids       uuid[];
    providers text[];
    user_ids  text[];
BEGIN
    BEGIN
        PERFORM FROM new_messages OFFSET 64 LIMIT 1;
        IF FOUND THEN
            EXECUTE pgmodelnames.statement_pass_sql(TG_RELID) INTO ids, providers, user_ids;
        ELSE
            PERFORM FROM new_messages AS n
             WHERE n.model_id IS NOT NULL
               AND EXISTS (SELECT FROM pgmodelnames.covered_providers AS c WHERE c.provider = lower(btrim(n.provider)))
               AND CASE WHEN octet_length(n.model_id) NOT BETWEEN 32 AND 36 THEN false
                        WHEN n.model_id LIKE '________-____-____-____-____________'
                            THEN octet_length(replace(n.model_id, '-', '')) = 32 AND n.model_id ~* '^[-0-9a-f]+$'
                                 AND NOT EXISTS (SELECT FROM @app_schema@.llm_models AS l WHERE l.id = n.model_id::uuid)
                        ELSE pgmodelnames.looks_like_uuid(n.model_id)
                    END;
            IF NOT FOUND THEN
                RETURN NULL;
            END IF;
            SELECT array_agg(u.id ORDER BY u.id), array_agg(u.provider ORDER BY u.id), array_agg(u.user_id ORDER BY u.id)
              INTO ids, providers, user_ids
              FROM (SELECT g.id, min(g.provider) AS provider, min(g.user_id) AS user_id
                      FROM (SELECT CASE WHEN pgmodelnames.looks_like_uuid(n.model_id) THEN n.model_id::uuid END AS id,
                                   lower(btrim(n.provider)) AS provider, to_jsonb(n) ->> 'user_id' AS user_id
                              FROM new_messages AS n
                             WHERE n.model_id IS NOT NULL
                               AND EXISTS (SELECT FROM pgmodelnames.covered_providers AS c
                                            WHERE c.provider = lower(btrim(n.provider)))) AS g
                     WHERE g.id IS NOT NULL
                       AND NOT EXISTS (SELECT FROM @app_schema@.llm_models AS l WHERE l.id = g.id)
                     GROUP BY g.id) AS u;
        END IF;
        IF ids IS NOT NULL THEN
            PERFORM pgmodelnames.create_placeholders(ids, providers, user_ids);
        END IF;
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'pgmodelnames: no placeholders for % new model(s) (first: %): % (the messages were stored)',
            coalesce(cardinality(ids), 0), ids[1], SQLERRM;
    END;
    RETURN NULL;
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.messages_placeholders_text_statement() FROM PUBLIC;

-- The FOREIGN KEY that makes the shape a row trigger: checked at the end of
-- each row's statement, before any AFTER STATEMENT trigger runs, it must
-- find the placeholder before the row. Its name, NULL if there is none.
CREATE OR REPLACE FUNCTION pgmodelnames.registry_foreign_key()
RETURNS name LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
@include diagnostics/registry_foreign_key.sql@
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.registry_foreign_key() FROM PUBLIC;

-- Which trigger trigger mode puts on messages, and why (the doctor says it):
--   statement  no FOREIGN KEY needs the row first (the default);
--   row        a FOREIGN KEY on messages.model_id references llm_models, or
--              set_trigger_shape('row') asked for it;
--   none       sweep mode.
CREATE OR REPLACE FUNCTION pgmodelnames.trigger_shape(OUT shape text, OUT reason text)
RETURNS record LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    fk         constant name := pgmodelnames.registry_foreign_key();
    preference constant text := (SELECT s.trigger_shape FROM pgmodelnames.sweep_state AS s);
BEGIN
    IF (SELECT s.mode FROM pgmodelnames.sweep_state AS s) = 'sweep' THEN
        shape := 'none';
        reason := 'sweep mode: no trigger on messages';
    ELSIF fk IS NOT NULL THEN
        shape := 'row';
        reason := format('the FOREIGN KEY %I on messages.model_id must find the llm_models row before it checks '
                         'the message', fk);
    ELSIF preference = 'row' THEN
        shape := 'row';
        reason := 'set_trigger_shape(''row'') asked for it';
    ELSE
        shape := 'statement';
        reason := 'no FOREIGN KEY on messages.model_id references llm_models: one set-based pass per statement';
    END IF;
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.trigger_shape() FROM PUBLIC;

-- Is messages a Citus distributed table? Read from Citus' documented
-- catalog pg_dist_partition (coordinator metadata): partmethod 'h' (hash),
-- 'r' (range), 'a' (append) are distributed tables; 'n' is a reference table
-- or a Citus local table, except a single-shard distributed table (Citus 12,
-- schema-based sharding), which is 'n' with statement replication 's' and a
-- colocation group. Without Citus the catalog does not exist: false. Written
-- against Citus' documentation; untested on a real Citus cluster.
CREATE OR REPLACE FUNCTION pgmodelnames.messages_is_distributed()
RETURNS boolean LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    distributed boolean := false;
BEGIN
    IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE $sql$
        SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition p
                        WHERE p.logicalrelid = $1
                          AND (p.partmethod IN ('h', 'r', 'a')
                               OR (p.partmethod = 'n' AND p.repmodel = 's' AND p.colocationid <> 0)))
        $sql$ INTO distributed USING '@app_schema@.messages'::regclass;
    RETURN distributed;
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.messages_is_distributed() FROM PUBLIC;

-- A distributed messages table can only run in sweep mode: a first install
-- starts there.
INSERT INTO pgmodelnames.sweep_state (mode)
VALUES (CASE WHEN pgmodelnames.messages_is_distributed() THEN 'sweep' ELSE 'trigger' END)
ON CONFLICT (singleton) DO NOTHING;

-- The one line that refuses trigger mode on a distributed messages table.
CREATE OR REPLACE FUNCTION pgmodelnames.refuse_trigger_on_distributed()
RETURNS void LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF pgmodelnames.messages_is_distributed() THEN
        RAISE EXCEPTION USING ERRCODE = 'PMN03',
            MESSAGE = format('%s.messages is a Citus distributed table: a row trigger there runs on the '
                             'shards and cannot write llm_models; use sweep mode: pgmodelnames upgrade '
                             '--placeholders sweep', '@app_schema@');
    END IF;
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.refuse_trigger_on_distributed() FROM PUBLIC;

-- messages and, where it is partitioned, every partition of it, at any
-- depth (pg_partition_tree() lists nothing for a plain table).
CREATE OR REPLACE FUNCTION pgmodelnames.messages_tables()
RETURNS SETOF regclass LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT '@app_schema@.messages'::regclass
    UNION
    SELECT p.relid FROM pg_catalog.pg_partition_tree('@app_schema@.messages'::regclass) AS p
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.messages_tables() FROM PUBLIC;

-- (Re)create the triggers on messages in the shape trigger_shape() names,
-- with the covered providers in their WHEN clause (trigger mode), or make
-- sure there are none (sweep mode):
--   row        zz_pgmodelnames_placeholder, BEFORE INSERT OR UPDATE OF
--              model_id, provider, FOR EACH ROW;
--   statement  zz_pgmodelnames_placeholder_insert, AFTER INSERT FOR EACH
--              STATEMENT with the transition table new_messages, on messages
--              and on each of its partitions (a statement trigger fires only
--              for the table a statement names, and PostgreSQL allows
--              transition tables on partitions only for statement triggers);
--              zz_pgmodelnames_placeholder stays for UPDATE OF model_id,
--              provider only, where a row trigger costs nothing to the
--              app's other updates (a statement trigger would fire for all
--              of them: PostgreSQL allows no column list with a transition
--              table).
-- Named zz_... because BEFORE triggers fire in name order: the row trigger
-- must see the model_id and provider the app's own triggers leave behind.
-- For a TEXT model_id the UUID-shape test is inlined in the WHEN clause, so
-- plain ids such as gpt-4o-mini never call the function. Only CREATE OR
-- REPLACE on the row trigger (a row trigger replaced by a statement trigger
-- of the same name would leave its clones on the partitions firing). Messages
-- stored while there was no trigger may lack their placeholders: the
-- history pass becomes due.
CREATE OR REPLACE FUNCTION pgmodelnames.install_placeholder_trigger()
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    messages_table constant regclass := '@app_schema@.messages'::regclass;
    shape          constant text := (pgmodelnames.trigger_shape()).shape;
    model_id_type  regtype;
    providers      text;
    condition      text;
    target         regclass;
BEGIN
    UPDATE pgmodelnames.sweep_state SET history_due_since = coalesce(history_due_since, now());
    FOR target IN
        SELECT t.tgrelid::regclass
          FROM pg_catalog.pg_trigger AS t
         WHERE t.tgname = 'zz_pgmodelnames_placeholder_insert' AND shape <> 'statement'
           AND t.tgrelid IN (SELECT pgmodelnames.messages_tables())
    LOOP
        PERFORM pgmodelnames.execute_with_lock_retries(format(
            'DROP TRIGGER IF EXISTS zz_pgmodelnames_placeholder_insert ON %s', target));
    END LOOP;
    IF shape = 'none' THEN
        IF EXISTS (SELECT FROM pg_catalog.pg_trigger
                    WHERE tgrelid = messages_table AND tgname = 'zz_pgmodelnames_placeholder') THEN
            PERFORM pgmodelnames.execute_with_lock_retries(format(
                'DROP TRIGGER IF EXISTS zz_pgmodelnames_placeholder ON %s', messages_table));
        END IF;
        RETURN;
    END IF;
    PERFORM pgmodelnames.refuse_trigger_on_distributed();

    SELECT atttypid::regtype INTO model_id_type
      FROM pg_catalog.pg_attribute WHERE attrelid = messages_table AND attname = 'model_id';
    SELECT string_agg(quote_literal(provider), ', ' ORDER BY provider) INTO providers
      FROM pgmodelnames.covered_providers;

    condition := format('NEW.model_id IS NOT NULL AND lower(btrim(NEW.provider)) IN (%s)',
                        coalesce(providers, 'NULL'));
    IF model_id_type <> 'uuid'::regtype THEN
        condition := condition || ' AND ' || pgmodelnames.uuid_shape_test('NEW.model_id');
    END IF;

    PERFORM pgmodelnames.execute_with_lock_retries(format(
        'CREATE OR REPLACE TRIGGER zz_pgmodelnames_placeholder
             BEFORE %s ON %s
             FOR EACH ROW WHEN (%s)
             EXECUTE FUNCTION pgmodelnames.%I()',
        CASE WHEN shape = 'row' THEN 'INSERT OR UPDATE OF model_id, provider' ELSE 'UPDATE OF model_id, provider' END,
        messages_table, condition,
        CASE WHEN model_id_type = 'uuid'::regtype THEN 'messages_placeholder_uuid' ELSE 'messages_placeholder_text' END));
    EXECUTE format('COMMENT ON TRIGGER zz_pgmodelnames_placeholder ON %s IS %L', messages_table,
        'pgmodelnames: creates a placeholder llm_models row for an unknown model UUID of a covered provider ('
        || coalesce(providers, 'none') || CASE WHEN shape = 'row' THEN ').' ELSE ') that an UPDATE names.' END);
    IF shape <> 'statement' THEN
        RETURN;
    END IF;
    FOR target IN
        SELECT c.oid::regclass
          FROM pg_catalog.pg_class AS c
         WHERE c.oid IN (SELECT pgmodelnames.messages_tables())
           AND c.relkind IN ('r', 'p')  -- a foreign table cannot have a transition table
         ORDER BY c.oid <> messages_table, c.oid::regclass::text
    LOOP
        PERFORM pgmodelnames.execute_with_lock_retries(format(
            'CREATE OR REPLACE TRIGGER zz_pgmodelnames_placeholder_insert
                 AFTER INSERT ON %s
                 REFERENCING NEW TABLE AS new_messages
                 FOR EACH STATEMENT
                 EXECUTE FUNCTION pgmodelnames.%I()',
            target,
            CASE WHEN model_id_type = 'uuid'::regtype THEN 'messages_placeholders_uuid_statement'
                 ELSE 'messages_placeholders_text_statement' END));
        EXECUTE format('COMMENT ON TRIGGER zz_pgmodelnames_placeholder_insert ON %s IS %L', target,
            'pgmodelnames: after each INSERT or COPY, one pass over its new rows creates the placeholder llm_models '
            || 'rows for unknown model UUIDs of a covered provider (' || coalesce(providers, 'none') || ').');
    END LOOP;
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.install_placeholder_trigger() FROM PUBLIC;

-- Choose the trigger's shape: auto (the default: statement, or row where a
-- FOREIGN KEY needs it), row, or statement (refused where such a key
-- exists: every message of a new model would fail it). Re-creates the
-- triggers in the caller's transaction and records the objects again.
-- Switching shapes leaves no message uncovered (both shapes' triggers change
-- in this one transaction), so it leaves the history pass as due as it was.
-- Returns the shape now installed.
CREATE OR REPLACE FUNCTION pgmodelnames.set_trigger_shape(preference text)
RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    wanted  constant text := lower(btrim(preference));
    fk      constant name := pgmodelnames.registry_foreign_key();
    was_due timestamptz;
BEGIN
    IF wanted IS NULL OR wanted NOT IN ('auto', 'row', 'statement') THEN
        RAISE EXCEPTION USING ERRCODE = 'PMN03',
            MESSAGE = format('unknown trigger shape %L: use auto, row or statement', left(preference, 40));
    END IF;
    IF wanted = 'statement' AND fk IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'PMN03',
            MESSAGE = format('messages.model_id has a FOREIGN KEY to llm_models (%I), which is checked before a '
                             'statement trigger runs: every message of a new model would be refused; keep the row '
                             'trigger, or drop the foreign key first', fk);
    END IF;
    SELECT s.history_due_since INTO was_due FROM pgmodelnames.sweep_state AS s FOR UPDATE;
    UPDATE pgmodelnames.sweep_state SET trigger_shape = wanted;
    PERFORM pgmodelnames.install_placeholder_trigger();
    UPDATE pgmodelnames.sweep_state SET history_due_since = was_due;
    PERFORM pgmodelnames.record_objects();
    RETURN (pgmodelnames.trigger_shape()).shape;
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.set_trigger_shape(text) FROM PUBLIC;

-- Placeholders for the stored messages that match a condition on messages
-- AS m (true: all of them): one set-based INSERT ... SELECT, which reads
-- messages with ACCESS SHARE (blocking no insert), locks only the llm_models
-- rows it creates, and is idempotent. Per message row it evaluates only
-- inlined expressions; the provider is normalised once per group. The
-- history pass and the sweep. Returns how many placeholders it created.
CREATE OR REPLACE FUNCTION pgmodelnames.create_placeholders_where(condition text)
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    messages_table constant regclass := '@app_schema@.messages'::regclass;
    is_uuid        boolean;
    has_user_id    boolean;
    created        bigint;
BEGIN
    SELECT bool_or(attname = 'model_id' AND atttypid = 'uuid'::regtype), bool_or(attname = 'user_id')
      INTO is_uuid, has_user_id
      FROM pg_catalog.pg_attribute WHERE attrelid = messages_table AND attnum > 0 AND NOT attisdropped;

    created := pgmodelnames.insert_placeholders(format($sql$
        SELECT o.id, pgmodelnames.normalized_provider(o.provider) AS provider, o.user_id
          FROM (SELECT %1$s AS id,
                       min(lower(btrim(m.provider))) AS provider,
                       min(%2$s) AS user_id
                  FROM %3$s AS m
                 WHERE m.model_id IS NOT NULL
                   AND lower(btrim(m.provider)) IN (SELECT provider FROM pgmodelnames.covered_providers)
                   %4$s
                   AND (%5$s)
                 GROUP BY 1) AS o
         WHERE NOT EXISTS (SELECT FROM %6$s.llm_models AS l WHERE l.id = o.id)
        $sql$,
        CASE WHEN is_uuid THEN 'm.model_id' ELSE 'm.model_id::uuid' END,
        CASE WHEN has_user_id THEN 'm.user_id::text' ELSE 'NULL::text' END,
        messages_table,
        CASE WHEN is_uuid THEN '' ELSE 'AND ' || pgmodelnames.uuid_shape_test('m.model_id') END,
        condition,
        '@app_schema@'));
    RETURN created;
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.create_placeholders_where(text) FROM PUBLIC;

-- The history pass: placeholders for every stored message.
CREATE OR REPLACE FUNCTION pgmodelnames.create_missing_placeholders()
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    RETURN pgmodelnames.create_placeholders_where('true');
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.create_missing_placeholders() FROM PUBLIC;

-- The index path: placeholders for the distinct model ids of messages,
-- walked through a btree index on messages(model_id) (a loose index scan:
-- one index descent per distinct id, however many messages there are), then
-- only the unknown ids' messages are read for their provider and user.
-- Exact without any high-water mark; costs in proportion to the number of
-- distinct model ids, not messages.
CREATE OR REPLACE FUNCTION pgmodelnames.create_placeholders_by_index()
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    messages_table constant regclass := '@app_schema@.messages'::regclass;
    is_uuid        boolean;
    has_user_id    boolean;
    created        bigint;
BEGIN
    SELECT bool_or(attname = 'model_id' AND atttypid = 'uuid'::regtype), bool_or(attname = 'user_id')
      INTO is_uuid, has_user_id
      FROM pg_catalog.pg_attribute WHERE attrelid = messages_table AND attnum > 0 AND NOT attisdropped;

    created := pgmodelnames.insert_placeholders(format($sql$
        WITH RECURSIVE ids AS (
            (SELECT m.model_id FROM %1$s AS m WHERE m.model_id IS NOT NULL ORDER BY m.model_id LIMIT 1)
            UNION ALL
            SELECT (SELECT m.model_id FROM %1$s AS m WHERE m.model_id > ids.model_id ORDER BY m.model_id LIMIT 1)
              FROM ids WHERE ids.model_id IS NOT NULL
        ),
        unknown AS MATERIALIZED (
            SELECT ids.model_id, %2$s AS id
              FROM ids
             WHERE ids.model_id IS NOT NULL %3$s
               AND NOT EXISTS (SELECT FROM %5$s.llm_models AS l WHERE l.id = %2$s)
        )
        SELECT u.id, pgmodelnames.normalized_provider(min(c.provider)) AS provider, min(c.user_id) AS user_id
          FROM unknown AS u
          CROSS JOIN LATERAL (
                SELECT lower(btrim(m.provider)) AS provider, %4$s AS user_id
                  FROM %1$s AS m
                 WHERE m.model_id = u.model_id
                   AND lower(btrim(m.provider)) IN (SELECT provider FROM pgmodelnames.covered_providers)) AS c
         GROUP BY u.id
        $sql$,
        messages_table,
        CASE WHEN is_uuid THEN 'ids.model_id' ELSE 'ids.model_id::uuid' END,
        CASE WHEN is_uuid THEN '' ELSE 'AND ' || pgmodelnames.uuid_shape_test('ids.model_id') END,
        CASE WHEN has_user_id THEN 'm.user_id::text' ELSE 'NULL::text' END,
        '@app_schema@'));
    RETURN created;
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.create_placeholders_by_index() FROM PUBLIC;

-- The history pass, when it is due: after an install (in a transaction of
-- its own, right after the install's commit, so that the app's inserts never
-- wait for its scan of messages), a change of the trigger, the mode or the
-- covered providers. Idempotent, and safe to run again at any time. Returns
-- the placeholders it created, NULL when none was due. Two at once take
-- turns; the first clears the flag for both.
CREATE OR REPLACE FUNCTION pgmodelnames.history_pass_if_due()
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    started constant timestamptz := clock_timestamp();
    made    bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(1885957487, 6);
    IF (SELECT history_due_since FROM pgmodelnames.sweep_state) IS NULL THEN
        RETURN NULL;
    END IF;
    IF (SELECT mode FROM pgmodelnames.sweep_state) = 'sweep' THEN
        SELECT s.created INTO made FROM pgmodelnames.sweep(full => true) AS s;
    ELSE
        made := pgmodelnames.create_missing_placeholders();
    END IF;
    -- A due flag set by someone else while this pass read is kept.
    UPDATE pgmodelnames.sweep_state SET history_due_since = NULL WHERE history_due_since <= started;
    RETURN made;
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.history_pass_if_due() FROM PUBLIC;


-- ============================================================ sweep mode
-- Placeholders without a trigger on messages, from a set-based, idempotent,
-- incremental sweep (pgmodelnames.sweep()), run by `pgmodelnames sweep`, by
-- every backfill pass, or by pg_cron inside the database (schedule_sweep()).
-- For Citus (a distributed messages table, where a row trigger cannot write
-- llm_models), bulk loads (no per-row cost) and logical replication
-- subscribers (which fire no ordinary trigger on replicated rows).

-- How the sweep finds what is new in messages, from the catalog (checked on
-- every sweep, so a new index is used from the next one on):
--   column  a high-water mark on a column that only grows as rows are
--           inserted, read through a btree index whose first column it is:
--           an integer identity/serial column whose sequence hands out one
--           value at a time (CACHE 1: with a cache, sessions insert values
--           below ones already committed), else a timestamptz column whose
--           default is the time of the insert (now(), CURRENT_TIMESTAMP,
--           clock_timestamp(), statement_timestamp(), transaction_timestamp()).
--           An identity column is preferred: an import of history gets new
--           values from it, while it keeps its old created_at. A sweep reads
--           only the rows at or above the mark: nothing new costs one index
--           probe, whatever the size of the table;
--   index   no such column, but a btree index on model_id: the loose index
--           scan of create_placeholders_by_index();
--   full    neither: every sweep reads all of messages (doctor says which
--           index to add).
CREATE OR REPLACE FUNCTION pgmodelnames.sweep_method(OUT method text, OUT mark_column name, OUT mark_type regtype,
                                                     OUT nullable boolean)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    messages_table constant regclass := '@app_schema@.messages'::regclass;
    preferred      constant text := coalesce((SELECT s.prefer FROM pgmodelnames.sweep_state AS s), 'auto');
BEGIN
    IF preferred = 'full' THEN
        method := 'full';
        RETURN;
    END IF;
    SELECT 'column', c.attname, c.atttypid::regtype, NOT c.attnotnull
      INTO method, mark_column, mark_type, nullable
      FROM (SELECT a.attname, a.atttypid, a.attnotnull,
                   CASE WHEN a.atttypid IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype)
                             AND (a.attidentity <> '' OR pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%')
                             AND EXISTS (SELECT FROM pg_catalog.pg_sequence s
                                          WHERE s.seqrelid = pg_get_serial_sequence(messages_table::text, a.attname)::regclass
                                            AND s.seqcache = 1 AND NOT s.seqcycle)
                        THEN 1
                        WHEN a.atttypid = 'timestamptz'::regtype
                             AND pg_get_expr(d.adbin, d.adrelid) IN ('now()', 'CURRENT_TIMESTAMP', 'clock_timestamp()',
                                                                     'statement_timestamp()', 'transaction_timestamp()')
                        THEN 2
                   END AS preference
              FROM pg_catalog.pg_index i
              JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
              JOIN pg_catalog.pg_am am ON am.oid = ic.relam
              JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
              LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             WHERE i.indrelid = messages_table AND am.amname = 'btree' AND i.indpred IS NULL
               AND i.indisvalid AND i.indisready AND NOT a.attisdropped) AS c
     WHERE c.preference IS NOT NULL AND preferred = 'auto'
     ORDER BY c.preference, c.attname
     LIMIT 1;
    IF method IS NULL THEN
        method := CASE WHEN EXISTS (
                           SELECT FROM pg_catalog.pg_index i
                             JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
                             JOIN pg_catalog.pg_am am ON am.oid = ic.relam
                             JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                            WHERE i.indrelid = messages_table AND am.amname = 'btree' AND i.indpred IS NULL
                              AND i.indisvalid AND i.indisready AND a.attname = 'model_id')
                       THEN 'index' ELSE 'full' END;
    END IF;
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.sweep_method() FROM PUBLIC;

-- Choose how the sweep reads messages: auto (the default: a high-water mark
-- where messages has a column for it, else the index path, else a full
-- scan), index (the loose index scan of an index on model_id, also where a
-- mark column exists: exact whoever set the values, e.g. on a logical
-- replication subscriber, where created_at and identity values come from the
-- publisher and can arrive below the mark), or full. Returns the method the
-- next sweep will use.
CREATE OR REPLACE FUNCTION pgmodelnames.set_sweep_method(preference text)
RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    wanted constant text := lower(btrim(preference));
BEGIN
    IF wanted IS NULL OR wanted NOT IN ('auto', 'index', 'full') THEN
        RAISE EXCEPTION USING ERRCODE = 'PMN03',
            MESSAGE = format('unknown sweep method %L: use auto, index or full', left(preference, 40));
    END IF;
    UPDATE pgmodelnames.sweep_state SET prefer = wanted;
    IF wanted = 'index' AND (pgmodelnames.sweep_method()).method <> 'index' THEN
        RAISE WARNING USING
            MESSAGE = 'pgmodelnames: messages has no valid btree index on model_id: the sweep reads all of messages '
                      'until it has one',
            HINT = format('CREATE INDEX CONCURRENTLY ON %s.messages (model_id);', '@app_schema@');
    END IF;
    RETURN (pgmodelnames.sweep_method()).method;
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.set_sweep_method(text) FROM PUBLIC;

-- The sweep: placeholders for the covered model UUIDs of messages, without a
-- trigger. Set-based, idempotent, and pooler-safe (no session state: one
-- call is one transaction; sweeps take turns on a transaction-level advisory
-- lock). In trigger mode it does nothing unless full => true (then it is the
-- history pass). Run it at READ COMMITTED (the default).
--
-- Rows committed late. With a high-water mark on a column that grows as
-- rows are inserted, a transaction that took its value (its now(), or its
-- identity value) before another one but commits after the sweep has read
-- would fall below the mark and be missed. A fixed safety window would only
-- narrow that to transactions longer than the window. Instead the mark is
-- moved only to a value that no transaction still running can insert below:
--   1. bound := the column's value for an insert starting now (clock_timestamp()
--      for a time column, the last value the sequence handed out for an
--      identity: never a value an app chose, which could lie far ahead);
--   2. the transactions running right then in this database (their virtual
--      transaction ids, which every transaction holds from its first
--      statement, visible in pg_locks to any role);
--   3. wait, at most `settle`, for them to end. Every row below bound was
--      inserted by a transaction that had begun by step 1, so once they have
--      all ended (and no prepared transaction waits), every such row is
--      committed or gone;
--   4. read the rows at or above the OLD mark (they include those late rows)
--      and create their placeholders;
--   5. move the mark to bound only if step 3 saw them all end; otherwise keep
--      it (held back: the next sweep reads from the old mark again, so a
--      long transaction costs re-reading, never a missed model).
-- Values the database did not generate at insert time (an import with its
-- own created_at, rows replicated with the publisher's values, app clocks)
-- can be below the mark: run a full sweep after such loads
-- (`pgmodelnames sweep --full`); schedule_sweep() also schedules a nightly one.
CREATE OR REPLACE FUNCTION pgmodelnames.sweep(full boolean DEFAULT false, settle interval DEFAULT '2 seconds')
RETURNS TABLE (mode text, method text, mark_column text, read_from text, high_water_mark text,
               created bigint, held_back boolean, seconds double precision)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    messages_table constant regclass := '@app_schema@.messages'::regclass;
    started        constant timestamptz := clock_timestamp();
    state          pgmodelnames.sweep_state;
    how            record;
    old_mark       text;
    new_bound      text;
    running        text[];
    drained        boolean := true;
    condition      text := 'true';
    made           bigint;
    whole          boolean;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION USING ERRCODE = 'PMN03',
            MESSAGE = 'pgmodelnames.sweep() must run at READ COMMITTED (it reads what others commit while it waits)';
    END IF;
    -- Sweeps take turns (two pg_cron runs, a backfill pass beside them).
    PERFORM pg_advisory_xact_lock(1885957487, 5);
    SELECT * INTO state FROM pgmodelnames.sweep_state;
    IF state.mode = 'trigger' THEN
        made := CASE WHEN sweep.full THEN pgmodelnames.create_missing_placeholders() ELSE 0 END;
        RETURN QUERY SELECT 'trigger'::text, CASE WHEN sweep.full THEN 'full' END, NULL::text, NULL::text, NULL::text,
                            made, false, extract(epoch FROM clock_timestamp() - started)::double precision;
        RETURN;
    END IF;

    SELECT * INTO how FROM pgmodelnames.sweep_method();
    IF how.method = 'column' THEN
        -- A changed column (an index added or dropped) starts from the bottom.
        IF NOT sweep.full AND state.method = 'column' AND state.mark_column = how.mark_column THEN
            old_mark := CASE WHEN how.mark_type = 'timestamptz'::regtype THEN state.mark_time::text
                             ELSE state.mark_number::text END;
        END IF;
        IF old_mark IS NOT NULL THEN
            condition := format('m.%I >= %L::%s', how.mark_column, old_mark, how.mark_type);
        END IF;
        -- 1. the bound
        IF how.mark_type = 'timestamptz'::regtype THEN
            new_bound := clock_timestamp()::text;
        ELSE
            -- The sequence's position, not the column's largest value: an
            -- explicit id far above it (or a clock far ahead, for a time
            -- column) would carry the mark past every row still to come.
            new_bound := coalesce(pg_sequence_last_value(
                             pg_get_serial_sequence(messages_table::text, how.mark_column)::regclass), 0)::text;
        END IF;
        -- 2. the transactions running now in this database, except this one,
        -- autovacuum, and sweeps waiting for this one's lock
        running := ARRAY(
            SELECT l.virtualxid
              FROM pg_catalog.pg_locks AS l
              JOIN pg_catalog.pg_stat_activity AS a ON a.pid = l.pid
             WHERE l.locktype = 'virtualxid' AND l.granted
               AND a.datid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
               AND l.pid <> pg_backend_pid()
               AND a.backend_type IS DISTINCT FROM 'autovacuum worker'
               AND NOT EXISTS (SELECT FROM pg_catalog.pg_locks AS w
                                WHERE w.pid = l.pid AND w.locktype = 'advisory' AND NOT w.granted
                                  AND w.classid = 1885957487 AND w.objid = 5 AND w.objsubid = 2));
        -- 3. wait for them to end, at most `settle`
        LOOP
            drained := NOT EXISTS (SELECT FROM pg_catalog.pg_locks AS l
                                    WHERE l.locktype = 'virtualxid' AND l.granted AND l.virtualxid = ANY (running))
                       AND NOT EXISTS (SELECT FROM pg_catalog.pg_prepared_xacts AS p
                                        WHERE p.database = current_database());
            EXIT WHEN drained OR clock_timestamp() >= started + settle;
            PERFORM pg_sleep(0.01);
        END LOOP;
        -- 4. read from the old mark (rows without a value in a nullable
        -- column, which no range reaches, in a second index scan of their own)
        made := pgmodelnames.create_placeholders_where(condition);
        IF old_mark IS NOT NULL AND how.nullable THEN
            made := made + pgmodelnames.create_placeholders_where(format('m.%I IS NULL', how.mark_column));
        END IF;
    ELSIF how.method = 'index' THEN
        made := pgmodelnames.create_placeholders_by_index();
    ELSE
        made := pgmodelnames.create_missing_placeholders();
    END IF;
    whole := old_mark IS NULL;

    -- 5. move the mark (column method, all earlier transactions ended)
    UPDATE pgmodelnames.sweep_state AS s
       SET method = how.method,
           mark_column = how.mark_column,
           mark_time = CASE WHEN how.method <> 'column' OR how.mark_type <> 'timestamptz'::regtype THEN NULL
                            WHEN drained THEN new_bound::timestamptz
                            WHEN state.mark_column = how.mark_column THEN s.mark_time END,
           mark_number = CASE WHEN how.method <> 'column' OR how.mark_type = 'timestamptz'::regtype THEN NULL
                              WHEN drained THEN new_bound::bigint
                              WHEN state.mark_column = how.mark_column THEN s.mark_number END,
           held_back_since = CASE WHEN drained THEN NULL
                                  ELSE (SELECT min(a.xact_start) FROM pg_catalog.pg_locks AS l
                                          JOIN pg_catalog.pg_stat_activity AS a ON a.pid = l.pid
                                         WHERE l.locktype = 'virtualxid' AND l.granted
                                           AND l.virtualxid = ANY (running)) END,
           held_back_pids = CASE WHEN drained THEN NULL
                                 ELSE ARRAY(SELECT l.pid FROM pg_catalog.pg_locks AS l
                                             WHERE l.locktype = 'virtualxid' AND l.granted
                                               AND l.virtualxid = ANY (running) ORDER BY 1) END,
           last_sweep_at = started,
           last_sweep_seconds = extract(epoch FROM clock_timestamp() - started),
           last_sweep_created = made,
           last_full_sweep_at = CASE WHEN whole THEN started ELSE s.last_full_sweep_at END,
           sweeps = s.sweeps + 1,
           created_total = s.created_total + made;

    RETURN QUERY
        SELECT 'sweep'::text, how.method, how.mark_column::text, old_mark,
               coalesce(s.mark_time::text, s.mark_number::text), made, NOT drained,
               extract(epoch FROM clock_timestamp() - started)::double precision
          FROM pgmodelnames.sweep_state AS s;
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.sweep(boolean, interval) FROM PUBLIC;

-- Switch the placeholder mode. Only the switch, in the caller's transaction;
-- it leaves the history pass due, which the caller runs in a transaction of
-- its own (history_pass_if_due(): the history pass in trigger mode, the
-- first full sweep in sweep mode), so that no lock on messages is held
-- while it reads.
--   trigger: (re)creates the trigger; refused on a distributed messages table;
--            unschedules the pg_cron sweeps, which would have nothing to do,
--            and remembers their schedules;
--   sweep:   drops the trigger; the high-water mark starts from the bottom;
--            the sweeps trigger mode unscheduled are scheduled again.
CREATE OR REPLACE FUNCTION pgmodelnames.set_placeholder_mode(new_mode text)
RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    wanted constant text := lower(btrim(new_mode));
    was    text;
    fk     name;
    paused      text;
    paused_full text;
BEGIN
    IF wanted IS NULL OR wanted NOT IN ('trigger', 'sweep') THEN
        RAISE EXCEPTION USING ERRCODE = 'PMN03',
            MESSAGE = format('unknown placeholder mode %L: use trigger or sweep', left(new_mode, 40));
    END IF;
    SELECT mode INTO was FROM pgmodelnames.sweep_state FOR UPDATE;
    IF wanted = 'trigger' THEN
        PERFORM pgmodelnames.refuse_trigger_on_distributed();
    END IF;
    -- Without the trigger, a FOREIGN KEY from messages.model_id would refuse
    -- every message of a new model until a sweep: keep trigger mode there.
    fk := pgmodelnames.registry_foreign_key();
    IF wanted = 'sweep' AND fk IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'PMN03',
            MESSAGE = format('messages.model_id has a FOREIGN KEY to llm_models (%I): without the trigger, every '
                             'message of a new model would be refused until a sweep; keep trigger mode, or drop '
                             'the foreign key first', fk);
    END IF;
    UPDATE pgmodelnames.sweep_state
       SET mode = wanted,
           mode_changed_at = CASE WHEN mode = wanted THEN mode_changed_at ELSE now() END,
           method = CASE WHEN mode = wanted THEN method END,
           mark_column = CASE WHEN mode = wanted THEN mark_column END,
           mark_time = CASE WHEN mode = wanted THEN mark_time END,
           mark_number = CASE WHEN mode = wanted THEN mark_number END;
    PERFORM pgmodelnames.install_placeholder_trigger();
    IF wanted = 'trigger' AND to_regclass('cron.job') IS NOT NULL THEN
        EXECUTE $sql$
            SELECT max(j.schedule) FILTER (WHERE j.jobname = 'pgmodelnames-sweep'),
                   max(j.schedule) FILTER (WHERE j.jobname = 'pgmodelnames-full-sweep')
              FROM cron.job AS j
            $sql$ INTO paused, paused_full;
        IF paused IS NOT NULL OR paused_full IS NOT NULL THEN
            UPDATE pgmodelnames.sweep_state SET paused_schedule = paused, paused_full_schedule = paused_full;
        END IF;
        PERFORM pgmodelnames.unschedule_sweep();
    ELSIF wanted = 'sweep' THEN
        SELECT s.paused_schedule, s.paused_full_schedule INTO paused, paused_full FROM pgmodelnames.sweep_state AS s;
        IF paused IS NOT NULL AND to_regprocedure('cron.schedule(text, text, text)') IS NOT NULL THEN
            PERFORM pgmodelnames.schedule_sweep(paused, paused_full);
            UPDATE pgmodelnames.sweep_state SET paused_schedule = NULL, paused_full_schedule = NULL;
        END IF;
    END IF;
    PERFORM pgmodelnames.record_objects();
    RETURN was;
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.set_placeholder_mode(text) FROM PUBLIC;

-- Change the covered providers: the table, and the trigger's WHEN clause in
-- trigger mode. The history pass for newly covered providers becomes due (a
-- full pass: their messages may lie below the sweep's mark); the caller runs
-- it in a transaction of its own.
CREATE OR REPLACE FUNCTION pgmodelnames.set_covered_providers(providers text[])
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    DELETE FROM pgmodelnames.covered_providers;
    INSERT INTO pgmodelnames.covered_providers
    SELECT DISTINCT pgmodelnames.normalized_provider(p) FROM unnest(providers) AS p
     WHERE pgmodelnames.normalized_provider(p) IS NOT NULL;
    PERFORM pgmodelnames.install_placeholder_trigger();
    PERFORM pgmodelnames.record_objects();
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.set_covered_providers(text[]) FROM PUBLIC;

-- pg_cron, where the extension is installed in this database (Supabase has
-- it; elsewhere it needs shared_preload_libraries = 'pg_cron' and runs its
-- jobs in the database named by cron.database_name). Two jobs, by name (so a
-- second call updates them): the incremental sweep, and a nightly full one
-- for rows whose mark value the database did not generate. Returns the jobs.
CREATE OR REPLACE FUNCTION pgmodelnames.schedule_sweep(schedule text DEFAULT '* * * * *',
                                                       full_schedule text DEFAULT '17 3 * * *')
RETURNS TABLE (job_name text, job_schedule text, command text, jobid bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    job record;
BEGIN
    IF to_regprocedure('cron.schedule(text, text, text)') IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'PMN03',
            MESSAGE = format('pg_cron is not installed in database %I: CREATE EXTENSION pg_cron (it needs '
                             'shared_preload_libraries = ''pg_cron''; on Supabase, enable it under Database > '
                             'Extensions), or run "pgmodelnames sweep" from your own scheduler', current_database());
    END IF;
    IF current_setting('cron.database_name', true) IS DISTINCT FROM current_database() THEN
        RAISE EXCEPTION USING ERRCODE = 'PMN03',
            MESSAGE = format('pg_cron runs its jobs from database %I, not %I: connect there and run SELECT '
                             'cron.schedule_in_database(''pgmodelnames-sweep'', %L, ''SELECT pgmodelnames.sweep()'', %L)',
                             current_setting('cron.database_name', true), current_database(), schedule, current_database());
    END IF;
    IF (SELECT mode FROM pgmodelnames.sweep_state) <> 'sweep' THEN
        RAISE EXCEPTION USING ERRCODE = 'PMN03',
            MESSAGE = 'placeholders come from the trigger: switch to sweep mode first (pgmodelnames upgrade --placeholders sweep)';
    END IF;
    FOR job IN
        SELECT * FROM (VALUES ('pgmodelnames-sweep', schedule, 'SELECT pgmodelnames.sweep()'),
                              ('pgmodelnames-full-sweep', full_schedule, 'SELECT pgmodelnames.sweep(full => true)'))
                      AS j(name, spec, cmd)
         WHERE j.spec IS NOT NULL
    LOOP
        job_name := job.name;
        job_schedule := job.spec;
        command := job.cmd;
        EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO jobid USING job.name, job.spec, job.cmd;
        RETURN NEXT;
    END LOOP;
    IF full_schedule IS NULL THEN
        PERFORM pgmodelnames.unschedule_sweep(only_full => true);
    END IF;
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.schedule_sweep(text, text) FROM PUBLIC;

-- Remove the pg_cron sweeps (none, or no pg_cron: nothing to do). Returns
-- how many jobs it removed.
CREATE OR REPLACE FUNCTION pgmodelnames.unschedule_sweep(only_full boolean DEFAULT false)
RETURNS integer LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    removed integer := 0;
BEGIN
    IF to_regclass('cron.job') IS NOT NULL AND to_regprocedure('cron.unschedule(bigint)') IS NOT NULL THEN
        EXECUTE $sql$
            SELECT count(cron.unschedule(j.jobid))::integer FROM cron.job AS j
             WHERE j.jobname = 'pgmodelnames-full-sweep' OR (NOT $1 AND j.jobname = 'pgmodelnames-sweep')
            $sql$ INTO removed USING only_full;
    END IF;
    RETURN removed;
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.unschedule_sweep(boolean) FROM PUBLIC;

-- What the doctor shows: the mode, how the sweep reads, its mark, when it
-- last ran, and the pg_cron jobs. One row.
CREATE OR REPLACE FUNCTION pgmodelnames.sweep_status()
RETURNS TABLE (mode text, distributed boolean, method text, mark_column text, high_water_mark text,
               held_back_since timestamptz, held_back_pids integer[], last_sweep_at timestamptz,
               last_sweep_seconds double precision, last_sweep_created bigint, last_full_sweep_at timestamptz,
               sweeps bigint, scheduled jsonb)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    jobs jsonb;
BEGIN
    IF to_regclass('cron.job') IS NOT NULL THEN
        EXECUTE $sql$
            SELECT jsonb_agg(jsonb_build_object('job', j.jobname, 'schedule', j.schedule, 'active', j.active)
                             ORDER BY j.jobname)
              FROM cron.job AS j WHERE j.jobname IN ('pgmodelnames-sweep', 'pgmodelnames-full-sweep')
            $sql$ INTO jobs;
    END IF;
    RETURN QUERY
        SELECT s.mode, pgmodelnames.messages_is_distributed(),
               CASE WHEN s.mode = 'sweep' THEN coalesce(s.method, (pgmodelnames.sweep_method()).method) END,
               CASE WHEN s.mode = 'sweep' THEN coalesce(s.mark_column, (pgmodelnames.sweep_method()).mark_column)::text END,
               coalesce(s.mark_time::text, s.mark_number::text), s.held_back_since, s.held_back_pids,
               s.last_sweep_at, s.last_sweep_seconds, s.last_sweep_created, s.last_full_sweep_at, s.sweeps,
               coalesce(jobs, '[]'::jsonb)
          FROM pgmodelnames.sweep_state AS s;
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.sweep_status() FROM PUBLIC;


-- ======================================================= installed objects
-- Every object pgmodelnames installs as the catalog shows it now (the query
-- of sql/diagnostics/object_facts.sql, which the doctor runs itself: a
-- changed function must not vouch for itself).
CREATE OR REPLACE FUNCTION pgmodelnames.object_facts()
RETURNS TABLE (object text, facts jsonb)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
@include diagnostics/object_facts.sql@
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.object_facts() FROM PUBLIC;

-- Remember every object as it is now: the end of an install, and of every
-- function above that changes an object (the mode, the covered providers).
CREATE OR REPLACE FUNCTION pgmodelnames.record_objects()
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    DELETE FROM pgmodelnames.installed_objects;
    INSERT INTO pgmodelnames.installed_objects (object, facts)
    SELECT f.object, f.facts FROM pgmodelnames.object_facts() AS f;
END
$fn$;
REVOKE ALL ON FUNCTION pgmodelnames.record_objects() FROM PUBLIC;


-- ======================================================= privileges, once more
-- Beside each object above, PUBLIC gets what it needs (EXECUTE on the naming
-- rules, nothing else; nothing on the schema). No other role holds a
-- privilege on pgmodelnames' objects: not one granted by hand, nor one
-- handed out by ALTER DEFAULT PRIVILEGES (Supabase's give new objects to
-- anon, authenticated and service_role). GRANT and REVOKE take no lock.
DO $do$
DECLARE
    revoke_statement text;
BEGIN
    FOR revoke_statement IN
        SELECT format('REVOKE ALL ON FUNCTION %s FROM %I', p.oid::regprocedure, r.rolname)
          FROM pg_catalog.pg_proc AS p
          CROSS JOIN LATERAL aclexplode(p.proacl) AS a
          JOIN pg_catalog.pg_roles AS r ON r.oid = a.grantee
         WHERE p.pronamespace = 'pgmodelnames'::regnamespace AND a.grantee <> p.proowner
        UNION
        SELECT format('REVOKE ALL ON TABLE %s FROM %I', c.oid::regclass, r.rolname)
          FROM pg_catalog.pg_class AS c
          CROSS JOIN LATERAL aclexplode(c.relacl) AS a
          JOIN pg_catalog.pg_roles AS r ON r.oid = a.grantee
         WHERE c.relnamespace = 'pgmodelnames'::regnamespace AND a.grantee <> c.relowner
        UNION
        SELECT format('REVOKE ALL ON SCHEMA pgmodelnames FROM %s',
                      CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END)
          FROM pg_catalog.pg_namespace AS n
          CROSS JOIN LATERAL aclexplode(n.nspacl) AS a
         WHERE n.nspname = 'pgmodelnames' AND a.grantee <> n.nspowner
    LOOP
        EXECUTE revoke_statement;
    END LOOP;
END
$do$;


-- ===================================================== in the app's schema
-- From here on the objects live in the app's schema and on its tables. The
-- plan says which of them this install (re)makes; the others are left
-- untouched, so an install that finds them as pgmodelnames left them takes
-- no lock on the app's tables at all.

-- llm_models: the registration trigger above, and name NOT NULL and
-- non-blank after filling every missing name, with the guard keeping it so.
DO $do$
DECLARE
    llm_models constant regclass := '@app_schema@.llm_models'::regclass;
BEGIN
    IF NOT string_to_array(coalesce(nullif(current_setting('pgmodelnames.rebuild', true), ''), 'all'), ',')
           && ARRAY['all', 'llm_models'] THEN
        RETURN;
    END IF;
    -- Neither trigger has anything to do for pgmodelnames' own placeholder
    -- rows (their names are placeholder names, they take nothing over), and
    -- running them for thousands of rows at once is what would keep the
    -- app's inserts of those models waiting for the history pass: the rows
    -- pgmodelnames inserts say so in a transaction-local setting. An app
    -- that set it itself would only lose the guard's and the registration's
    -- help for its own statements.
    EXECUTE format('CREATE OR REPLACE TRIGGER pgmodelnames_name_guard BEFORE INSERT OR UPDATE ON %s '
                   'FOR EACH ROW WHEN (current_setting(''pgmodelnames.inserting_placeholders'', true) '
                   'IS DISTINCT FROM ''on'') EXECUTE FUNCTION pgmodelnames.llm_models_name_guard()', llm_models);
    EXECUTE format('CREATE OR REPLACE TRIGGER pgmodelnames_adopt_placeholder BEFORE INSERT ON %s '
                   'FOR EACH ROW WHEN (current_setting(''pgmodelnames.inserting_placeholders'', true) '
                   'IS DISTINCT FROM ''on'') EXECUTE FUNCTION pgmodelnames.llm_models_adopt_placeholder()',
                   llm_models);
    EXECUTE format('COMMENT ON TRIGGER pgmodelnames_adopt_placeholder ON %s IS %L', llm_models,
        'pgmodelnames: an INSERT of a model that has a pgmodelnames placeholder row takes that row''s place.');
    EXECUTE format('COMMENT ON TRIGGER pgmodelnames_name_guard ON %s IS %L', llm_models,
        'pgmodelnames: fills a missing name (model_id, served_model_name, placeholder name) so NOT NULL never fails a write.');

    -- Remember the nullability the app chose, so a downgrade can give it
    -- back. Recorded once. Where the bookkeeping was lost but the constraint
    -- survived (a public-only restore), the constraint's comment still says
    -- what the app had before pgmodelnames made the column NOT NULL.
    UPDATE pgmodelnames.installation
       SET name_was_nullable = coalesce(
               (SELECT CASE WHEN d.description LIKE '%(before pgmodelnames: name nullable)%' THEN true
                            WHEN d.description LIKE '%(before pgmodelnames: name NOT NULL)%' THEN false END
                  FROM pg_catalog.pg_constraint AS c
                  JOIN pg_catalog.pg_description AS d
                    ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_constraint'::regclass
                 WHERE c.conrelid = llm_models AND c.conname = 'llm_models_name_present'),
               NOT a.attnotnull)
      FROM pg_catalog.pg_attribute AS a
     WHERE a.attrelid = llm_models AND a.attname = 'name' AND name_was_nullable IS NULL;

    -- Names that are exactly their row's placeholder name were written by
    -- the package (perhaps before an uninstall): they are machine names again.
    EXECUTE format($sql$
        INSERT INTO pgmodelnames.machine_names (model_uuid, name, source)
        SELECT l.id, l.name, 'placeholder' FROM %s AS l
         WHERE pgmodelnames.is_placeholder_name(l.name, l.id, l.provider)
        ON CONFLICT (model_uuid) DO NOTHING
        $sql$, llm_models);

    -- Fill every missing name. Setting it to NULL lets the guard compute it,
    -- so there is exactly one implementation of the rule. The app's own
    -- UPDATE triggers on llm_models fire for these rows.
    EXECUTE format('UPDATE %s SET name = NULL WHERE NOT pgmodelnames.is_usable_name(name)', llm_models);

    -- NOT VALID, then VALIDATE, then SET NOT NULL, which PostgreSQL 12+ proves
    -- from the valid CHECK without another scan. In this one transaction the
    -- lock taken at the start already excludes every writer; llm_models is
    -- the small registry, so the scan is short.
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_constraint
                    WHERE conrelid = llm_models AND conname = 'llm_models_name_present') THEN
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT llm_models_name_present '
                                  'CHECK (name IS NOT NULL AND btrim(name) <> '''') NOT VALID', llm_models);
    END IF;
    EXECUTE format('ALTER TABLE %s VALIDATE CONSTRAINT llm_models_name_present', llm_models);
    EXECUTE format('ALTER TABLE %s ALTER COLUMN name SET NOT NULL', llm_models);
    -- The comment carries the original nullability with the table, through
    -- any dump and restore (see name_was_nullable above).
    EXECUTE format('COMMENT ON CONSTRAINT llm_models_name_present ON %s IS %L', llm_models,
        'pgmodelnames: every model has a name; the pgmodelnames_name_guard trigger fills missing ones. '
        || CASE WHEN (SELECT name_was_nullable FROM pgmodelnames.installation)
                THEN '(before pgmodelnames: name nullable)' ELSE '(before pgmodelnames: name NOT NULL)' END);
END
$do$;

-- The view model_display_names: one readable, distinct name per llm_models
-- row. Built in a DO block because llm_models may lack the optional columns
-- model_id and served_model_name; the printed (--sql) script adapts the same
-- way when it runs. security_invoker = true is stated on every (re)creation:
-- without it, CREATE OR REPLACE VIEW silently makes the view run as its
-- owner and bypass row-level security for every reader. A view whose
-- columns were changed by hand cannot be replaced: it is dropped and made
-- again (model_display_name() depends on it, so the functions go and come
-- back too), and the privileges its readers had are given back.
DO $do$
DECLARE
    has_model_id boolean;
    has_served   boolean;
    definition   text;
    readers      text[];
    grant_stmt   text;
BEGIN
    IF NOT string_to_array(coalesce(nullif(current_setting('pgmodelnames.rebuild', true), ''), 'all'), ',')
           && ARRAY['all', 'view'] THEN
        RETURN;
    END IF;
    SELECT bool_or(attname = 'model_id'), bool_or(attname = 'served_model_name')
      INTO has_model_id, has_served
      FROM pg_catalog.pg_attribute
     WHERE attrelid = '@app_schema@.llm_models'::regclass AND attnum > 0 AND NOT attisdropped;

    definition := format($sql$
        CREATE OR REPLACE VIEW @app_schema@.model_display_names
        WITH (security_invoker = true) AS
        SELECT l.id,
               shown.display_name,
               l.provider,
               %1$s AS model_id,
               %2$s AS served_model_name,
               pgmodelnames.is_placeholder_name(shown.display_name, l.id, l.provider) AS is_placeholder
          FROM @app_schema@.llm_models AS l
          -- LEFT JOIN LATERAL (always exactly one row) rather than a plain
          -- expression: the planner then computes display_name as a
          -- placeholder at the scan of llm_models, once per model, instead
          -- of once per joined message. An analytics query grouping 10M
          -- messages by display_name costs the same as grouping by
          -- llm_models.name, stays parallel, and still probes the primary key.
          LEFT JOIN LATERAL (
               SELECT CASE WHEN pgmodelnames.is_usable_name(l.name) THEN pgmodelnames.trimmed(l.name)
                           ELSE pgmodelnames.machine_name(l.id, l.provider, %1$s, %2$s)
                      END AS display_name
               ) AS shown ON true
        $sql$,
        CASE WHEN has_model_id THEN 'l.model_id::text' ELSE 'NULL::text' END,
        CASE WHEN has_served THEN 'l.served_model_name::text' ELSE 'NULL::text' END);
    BEGIN
        EXECUTE definition;
    EXCEPTION WHEN invalid_table_definition THEN  -- "cannot drop columns from view" and the like
        SELECT ARRAY(SELECT format('GRANT %s ON @app_schema@.model_display_names TO %s',
                                              a.privilege_type,
                                              CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                                                   ELSE quote_ident(pg_get_userbyid(a.grantee)) END)
                       FROM pg_catalog.pg_class AS c, aclexplode(c.relacl) AS a
                      WHERE c.oid = '@app_schema@.model_display_names'::regclass AND a.grantee <> c.relowner)
          INTO readers;
        DROP FUNCTION IF EXISTS @app_schema@.model_display_name(text, text);
        DROP FUNCTION IF EXISTS @app_schema@.model_display_name(uuid, text);
        DROP VIEW @app_schema@.model_display_names;
        EXECUTE definition;
        FOREACH grant_stmt IN ARRAY readers LOOP
            EXECUTE grant_stmt;
        END LOOP;
    END;

    COMMENT ON VIEW @app_schema@.model_display_names IS
        'pgmodelnames: one readable, distinct name per llm_models row. Join messages.model_id = id (or id::text for a text column). Runs with the reader''s rights (row-level security applies).';
    COMMENT ON COLUMN @app_schema@.model_display_names.id IS 'llm_models.id; join messages.model_id to it.';
    COMMENT ON COLUMN @app_schema@.model_display_names.display_name IS
        'Never NULL, blank or a bare UUID: the name, else model_id, else served_model_name, else "Unknown <provider> model <first 8 hex digits>".';
    COMMENT ON COLUMN @app_schema@.model_display_names.provider IS 'llm_models.provider as stored.';
    COMMENT ON COLUMN @app_schema@.model_display_names.model_id IS 'llm_models.model_id (NULL if the table has no such column).';
    COMMENT ON COLUMN @app_schema@.model_display_names.served_model_name IS 'llm_models.served_model_name (NULL if the table has no such column).';
    COMMENT ON COLUMN @app_schema@.model_display_names.is_placeholder IS
        'True while the model has no real name yet (shown by its placeholder name); run "pgmodelnames backfill" or "rename".';
END
$do$;

-- Names for ids a reader cannot see (row-level security) or that are not
-- UUIDs at all. Caller's rights: it reveals only what the view shows them.
-- Written as single RETURN expressions: statement splitters such as the
-- Supabase CLI's end a BEGIN ATOMIC body at the first END, a CASE's.
-- Executable by everyone (the default; grants on them are the app's own).
CREATE OR REPLACE FUNCTION @app_schema@.model_display_name(model_id uuid, provider text DEFAULT NULL)
RETURNS text LANGUAGE sql STABLE PARALLEL SAFE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
RETURN coalesce(
    (SELECT v.display_name FROM @app_schema@.model_display_names AS v
      WHERE v.id = model_display_name.model_id),
    pgmodelnames.placeholder_name(model_display_name.model_id, model_display_name.provider));
COMMENT ON FUNCTION @app_schema@.model_display_name(uuid, text) IS
    'pgmodelnames: display name of a model id, also for rows hidden by row-level security ("Unknown <provider> model <8 hex>"). Never NULL for a non-NULL id.';

CREATE OR REPLACE FUNCTION @app_schema@.model_display_name(model_id text, provider text DEFAULT NULL)
RETURNS text LANGUAGE sql STABLE PARALLEL SAFE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
RETURN CASE
    WHEN pgmodelnames.looks_like_uuid(pgmodelnames.trimmed(model_display_name.model_id))
        THEN @app_schema@.model_display_name(pgmodelnames.trimmed(model_display_name.model_id)::uuid,
                                             model_display_name.provider)
    WHEN pgmodelnames.is_usable_name(model_display_name.model_id)
        THEN pgmodelnames.trimmed(model_display_name.model_id)
    WHEN model_display_name.model_id IS NOT NULL THEN 'Unknown model (blank id)'
END;
COMMENT ON FUNCTION @app_schema@.model_display_name(text, text) IS
    'pgmodelnames: display name of a text model id: a UUID is resolved like the uuid overload, any other id is returned trimmed.';

-- The placeholder trigger on messages (trigger mode; none in sweep mode),
-- refused in one line on a Citus distributed messages table.
DO $do$
BEGIN
    IF string_to_array(coalesce(nullif(current_setting('pgmodelnames.rebuild', true), ''), 'all'), ',')
           && ARRAY['all', 'messages'] THEN
        PERFORM pgmodelnames.install_placeholder_trigger();
    END IF;
END
$do$;
