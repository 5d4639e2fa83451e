-- Install (and removal), step 2: every lock on the app's tables at once,
-- before anything is changed. Nothing in the rest of the transaction waits
-- for a lock the app holds, so it never holds one the app waits for while
-- waiting itself: no deadlock, and no app insert queued behind a waiting
-- DDL. Each attempt waits at most 100 ms and gives everything back when it
-- fails (its locks belong to the attempt's subtransaction), then tries again
-- after a pause; a long transaction elsewhere makes the install fail with
-- lock_not_available after about a minute (pgmodelnames.lock_attempts, default
-- 100 attempts), leaving nothing changed. Which tables and modes:
--   llm_models  ACCESS EXCLUSIVE (the name constraint, NOT NULL, the guard);
--   messages    SHARE ROW EXCLUSIVE (CREATE TRIGGER; a removal's DROP
--               TRIGGER: ACCESS EXCLUSIVE);
--   the view    ACCESS EXCLUSIVE (CREATE OR REPLACE VIEW).
-- From pgmodelnames.rebuild (step 1); 'remove' asks for all three.
DO $lock$
DECLARE
    parts     constant text[] := string_to_array(current_setting('pgmodelnames.rebuild', true), ',');
    removing  constant boolean := parts && ARRAY['remove'];
    attempts  constant integer := coalesce(nullif(current_setting('pgmodelnames.lock_attempts', true), '')::integer, 100);
    caller    constant text := current_setting('lock_timeout');
    wanted    text[] := '{}';
    statement text;
BEGIN
    IF to_regclass('@app_schema@.model_display_names') IS NOT NULL AND parts && ARRAY['all', 'view', 'remove'] THEN
        wanted := wanted || 'LOCK TABLE @app_schema@.model_display_names IN ACCESS EXCLUSIVE MODE'::text;
    END IF;
    IF to_regclass('@app_schema@.llm_models') IS NOT NULL AND parts && ARRAY['all', 'llm_models', 'remove'] THEN
        wanted := wanted || 'LOCK TABLE @app_schema@.llm_models IN ACCESS EXCLUSIVE MODE'::text;
    END IF;
    IF to_regclass('@app_schema@.messages') IS NOT NULL AND parts && ARRAY['all', 'messages', 'remove'] THEN
        wanted := wanted || CASE WHEN removing THEN 'LOCK TABLE @app_schema@.messages IN ACCESS EXCLUSIVE MODE'
                                 ELSE 'LOCK TABLE @app_schema@.messages IN SHARE ROW EXCLUSIVE MODE' END::text;
    END IF;
    IF cardinality(wanted) = 0 THEN
        RETURN;
    END IF;
    FOR attempt IN 1 .. attempts LOOP
        BEGIN
            PERFORM set_config('lock_timeout', '100ms', true);
            FOREACH statement IN ARRAY wanted LOOP
                EXECUTE statement;
            END LOOP;
            PERFORM set_config('lock_timeout', caller, true);
            RETURN;
        EXCEPTION WHEN lock_not_available THEN
            PERFORM pg_sleep(least(0.02 * attempt, 0.5) * (0.5 + random()));
        END;
    END LOOP;
    RAISE EXCEPTION USING ERRCODE = 'lock_not_available',
        MESSAGE = format('could not lock %s after %s attempts', array_to_string(ARRAY(
                      SELECT regexp_replace(w, '^LOCK TABLE (.*) IN .*$', '\1') FROM unnest(wanted) AS w), ', '),
                  attempts);
END
$lock$;
