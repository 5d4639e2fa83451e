-- uninstall, after every revision is rolled back: remove what is left.
--
-- Also the only step of an uninstall where the bookkeeping is gone (a
-- restore of the app schema alone, a half-removed install): every object
-- pgmodelnames ever creates in the app schema is found by its name and
-- dropped, and llm_models.name gets back the nullability recorded in the
-- constraint's comment. No row is deleted or changed.
DO $uninstall$
DECLARE
    llm_models constant regclass := to_regclass('@app_schema@.llm_models');
    messages   constant regclass := to_regclass('@app_schema@.messages');
    note       text;
    target     regclass;
BEGIN
    IF messages IS NOT NULL THEN
        EXECUTE format('DROP TRIGGER IF EXISTS zz_pgmodelnames_placeholder ON %s', messages);
        -- The statement triggers (revision 0007), on messages and its partitions.
        FOR target IN
            SELECT t.tgrelid::regclass FROM pg_catalog.pg_trigger AS t
             WHERE t.tgname = 'zz_pgmodelnames_placeholder_insert'
               AND (t.tgrelid = messages
                    OR t.tgrelid IN (SELECT p.relid FROM pg_catalog.pg_partition_tree(messages) AS p))
        LOOP
            EXECUTE format('DROP TRIGGER zz_pgmodelnames_placeholder_insert ON %s', target);
        END LOOP;
    END IF;
    -- pg_cron jobs of sweep mode (revision 0005), found by name.
    IF to_regclass('cron.job') IS NOT NULL AND to_regprocedure('cron.unschedule(bigint)') IS NOT NULL THEN
        PERFORM cron.unschedule(j.jobid) FROM cron.job AS j
          WHERE j.jobname IN ('pgmodelnames-sweep', 'pgmodelnames-full-sweep');
    END IF;
    IF llm_models IS NOT NULL THEN
        SELECT d.description INTO note
          FROM pg_catalog.pg_constraint c
          JOIN pg_catalog.pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_constraint'::regclass
         WHERE c.conrelid = llm_models AND c.conname = 'llm_models_name_present';
        IF note LIKE '%(before pgmodelnames: name nullable)%' THEN
            EXECUTE format('ALTER TABLE %s ALTER COLUMN name DROP NOT NULL', llm_models);
        END IF;
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS llm_models_name_present', llm_models);
        EXECUTE format('DROP TRIGGER IF EXISTS pgmodelnames_name_guard ON %s', llm_models);
        EXECUTE format('DROP TRIGGER IF EXISTS pgmodelnames_adopt_placeholder ON %s', llm_models);
    END IF;
END
$uninstall$;
DROP FUNCTION IF EXISTS @app_schema@.model_display_name(text, text);
DROP FUNCTION IF EXISTS @app_schema@.model_display_name(uuid, text);
DROP VIEW IF EXISTS @app_schema@.model_display_names;
-- Whatever is left in the pgmodelnames schema (the version table, objects
-- of a partial install) is dropped object by object, without CASCADE: if the
-- app built something of its own on one of them, the last statement fails
-- and names it, instead of dropping the app's object.
DO $leftovers$
DECLARE
    schema_oid constant oid := to_regnamespace('pgmodelnames');
    statement  text;
    dropped    boolean := true;
BEGIN
    WHILE schema_oid IS NOT NULL AND dropped LOOP
        dropped := false;
        FOR statement IN
            SELECT format('DROP FUNCTION %s', p.oid::regprocedure)
              FROM pg_catalog.pg_proc p WHERE p.pronamespace = schema_oid
            UNION ALL
            SELECT format('DROP %s %s', CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
                          c.oid::regclass)
              FROM pg_catalog.pg_class c
             WHERE c.relnamespace = schema_oid AND c.relkind IN ('r', 'p', 'v', 'S')
        LOOP
            BEGIN
                EXECUTE statement;
                dropped := true;
            EXCEPTION WHEN dependent_objects_still_exist OR undefined_table OR undefined_function THEN
                NULL;  -- depends on another leftover (tried again next round) or already gone
            END;
        END LOOP;
    END LOOP;
END
$leftovers$;
DROP SCHEMA IF EXISTS pgmodelnames;
