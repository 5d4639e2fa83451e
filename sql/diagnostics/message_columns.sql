-- Doctor and backfill: which of the columns the placeholder evidence reads
-- does messages have, and of which type? One row per column present (of
-- model_id, created_at, user_id, conversation_id). Reads only the catalog.
--
-- Apps differ: created_at, user_id and conversation_id are optional, and
-- model_id is uuid or text. placeholder_evidence.sql is filled in from this
-- answer (a missing column becomes a NULL there), so that the query over
-- messages names only columns that exist and compares model_id in its own
-- type (an index on it stays usable).
--
-- Run it alone (schema public):
--   sed 's/@app_schema_literal@/public/g; s/@app_schema@/"public"/g' message_columns.sql | psql "$DATABASE_URL"
SELECT a.attname::text AS column_name,
       format_type(a.atttypid, a.atttypmod) AS type_name,
       a.atttypid = 'uuid'::regtype AS is_uuid,
       a.atttypid IN ('timestamp with time zone'::regtype, 'timestamp without time zone'::regtype,
                      'date'::regtype) AS is_time
  FROM pg_catalog.pg_attribute AS a
 WHERE a.attrelid = to_regclass(format('%I.messages', '@app_schema_literal@'))
   AND a.attname IN ('model_id', 'created_at', 'user_id', 'conversation_id')
   AND a.attnum > 0
   AND NOT a.attisdropped
 ORDER BY a.attnum;
