-- Revision 0002 down: remove the view, the functions, the guard and the
-- constraints. The names that were filled stay: they are data, and the
-- app's rows are never rewritten on the way out. NOT NULL is dropped only if
-- the app did not have it before the upgrade.
SET LOCAL lock_timeout = '5s';

DROP FUNCTION IF EXISTS @app_schema@.model_display_name(text, text);
DROP FUNCTION IF EXISTS @app_schema@.model_display_name(uuid, text);
-- No CASCADE: if the app built its own views on ours, stop and say so
-- instead of dropping the app's objects.
DROP VIEW IF EXISTS @app_schema@.model_display_names;

DO $restore$
BEGIN
    IF (SELECT name_was_nullable FROM pgmodelnames.installation) THEN
        PERFORM pgmodelnames.execute_with_lock_retries(
            'ALTER TABLE @app_schema@.llm_models ALTER COLUMN name DROP NOT NULL');
    END IF;
END
$restore$;
SELECT pgmodelnames.execute_with_lock_retries($sql$
    ALTER TABLE @app_schema@.llm_models DROP CONSTRAINT IF EXISTS llm_models_name_present
$sql$);
SELECT pgmodelnames.execute_with_lock_retries($sql$
    DROP TRIGGER IF EXISTS pgmodelnames_name_guard ON @app_schema@.llm_models
$sql$);
DROP FUNCTION IF EXISTS pgmodelnames.llm_models_name_guard();
UPDATE pgmodelnames.installation SET name_was_nullable = NULL;
