-- backfill: give one matched row its name from the server.
--
-- The fills marker below becomes one fill_column.sql clause per optional
-- column to fill (model_id, served_model_name, base_model, where they exist
-- and are empty), so app data is only ever filled, never overwritten.
-- The WHERE clause repeats the machine-name test: even without lock.sql a
-- human name could not be replaced (under READ COMMITTED, PostgreSQL
-- re-evaluates it on the latest row version).
UPDATE @app_schema@.llm_models AS l
   SET name = %(name)s
       @fills@
 WHERE l.id = %(id)s::uuid
   AND pgmodelnames.is_replaceable_name(l.id, l.name, l.provider)
RETURNING l.id::text;
