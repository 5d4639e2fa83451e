-- Revision 0006 down to base: remove every object of schema.sql, in one
-- transaction, after taking the locks on the app's tables at once (the
-- caller runs sql/install/lock.sql with pgmodelnames.rebuild = 'remove').
-- The names that were filled and the placeholder rows stay in llm_models:
-- they are data, the app's rows are never rewritten on the way out, and
-- deleting a placeholder could null or cascade the app's messages through a
-- foreign key. NOT NULL on llm_models.name goes only if the app did not have
-- it before. The schema pgmodelnames and its version table stay for Alembic;
-- "pgmodelnames uninstall" removes them afterwards. Every object is found by
-- its name, so this also cleans up a half install. No CASCADE: if the app
-- built its own objects on ours, the removal stops and names them.

-- No pg_cron job may go on calling a function that is about to go.
DO $do$
BEGIN
    IF to_regclass('cron.job') IS NOT NULL AND to_regprocedure('cron.unschedule(bigint)') IS NOT NULL THEN
        PERFORM cron.unschedule(j.jobid) FROM cron.job AS j
          WHERE j.jobname IN ('pgmodelnames-sweep', 'pgmodelnames-full-sweep');
    END IF;
END
$do$;

DROP TRIGGER IF EXISTS zz_pgmodelnames_placeholder ON @app_schema@.messages;
DROP FUNCTION IF EXISTS @app_schema@.model_display_name(text, text);
DROP FUNCTION IF EXISTS @app_schema@.model_display_name(uuid, text);
DROP VIEW IF EXISTS @app_schema@.model_display_names;

DO $do$
BEGIN
    IF to_regclass('pgmodelnames.installation') IS NOT NULL
       AND (SELECT name_was_nullable FROM pgmodelnames.installation) THEN
        ALTER TABLE @app_schema@.llm_models ALTER COLUMN name DROP NOT NULL;
    END IF;
END
$do$;
ALTER TABLE @app_schema@.llm_models DROP CONSTRAINT IF EXISTS llm_models_name_present;
DROP TRIGGER IF EXISTS pgmodelnames_name_guard ON @app_schema@.llm_models;
DROP TRIGGER IF EXISTS pgmodelnames_adopt_placeholder ON @app_schema@.llm_models;

-- Every function of pgmodelnames' schema (those of every revision), then its
-- tables but the version table. The naming rules are SQL-standard functions
-- that depend on one another: each round drops what nothing depends on any
-- more, until a round drops nothing (then a dependency from outside, the
-- app's own, remains: the last attempt fails and names it).
DO $do$
DECLARE
    statement text;
    dropped   boolean := true;
BEGIN
    WHILE dropped LOOP
        dropped := false;
        FOR statement IN
            SELECT format('DROP FUNCTION %s', p.oid::regprocedure)
              FROM pg_catalog.pg_proc AS p WHERE p.pronamespace = to_regnamespace('pgmodelnames')
        LOOP
            BEGIN
                EXECUTE statement;
                dropped := true;
            EXCEPTION WHEN dependent_objects_still_exist THEN
                NULL;  -- another function of ours still needs it: next round
            END;
        END LOOP;
    END LOOP;
    FOR statement IN
        SELECT format('DROP FUNCTION %s', p.oid::regprocedure)
          FROM pg_catalog.pg_proc AS p WHERE p.pronamespace = to_regnamespace('pgmodelnames')
    LOOP
        EXECUTE statement;
    END LOOP;
END
$do$;
-- pgmodelnames' own bookkeeping, which no client of the app reads:
-- squawk-ignore ban-drop-table
DROP TABLE IF EXISTS pgmodelnames.installed_objects, pgmodelnames.sweep_state, pgmodelnames.machine_names,
                     pgmodelnames.covered_providers, pgmodelnames.installation;
