-- backfill: give one matched row its name from the server.
--
-- The fills marker below is built by Python from columns.sql: for each optional column
-- that exists (model_id, served_model_name, base_model) one clause
--     , col = CASE WHEN coalesce(btrim(l.col::text), '') = '' THEN <param> ELSE l.col END
-- so app data is only ever filled where it is empty, never overwritten.
-- The WHERE clause repeats the machine-name test: even without lock.sql a
-- human name could not be replaced (under READ COMMITTED, PostgreSQL
-- re-evaluates it on the latest row version).
UPDATE @app_schema@.llm_models AS l
   SET name = %(name)s{fills}
 WHERE l.id = %(id)s::uuid
   AND (NOT pgmodelnames.is_usable_name(l.name)
        OR btrim(l.name) = pgmodelnames.placeholder_name(l.id, l.provider)
        OR EXISTS (SELECT FROM pgmodelnames.machine_names AS mn
                    WHERE mn.model_uuid = l.id AND mn.name = l.name))
RETURNING l.id::text;
