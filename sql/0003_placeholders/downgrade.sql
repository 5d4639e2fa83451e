-- Revision 0003 down: remove the trigger and its functions. Placeholder rows
-- stay in llm_models as ordinary rows with their names: deleting them could
-- null or cascade the app's messages through a foreign key.
SET LOCAL lock_timeout = '5s';

SELECT pgmodelnames.execute_with_lock_retries(
    'DROP TRIGGER IF EXISTS zz_pgmodelnames_placeholder ON @app_schema@.messages');
DROP FUNCTION IF EXISTS pgmodelnames.set_covered_providers(text[]);
DROP FUNCTION IF EXISTS pgmodelnames.create_missing_placeholders();
DROP FUNCTION IF EXISTS pgmodelnames.install_placeholder_trigger();
DROP FUNCTION IF EXISTS pgmodelnames.messages_placeholder_text();
DROP FUNCTION IF EXISTS pgmodelnames.messages_placeholder_uuid();
DROP FUNCTION IF EXISTS pgmodelnames.create_placeholder(uuid, text, text);
DROP FUNCTION IF EXISTS pgmodelnames.placeholder_insert_sql(text);
