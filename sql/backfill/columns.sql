-- backfill: the columns of llm_models, from the catalog.
--
-- The optional columns (model_id, served_model_name, base_url, base_model,
-- user_id, enabled) differ from app to app. Python builds the column lists
-- of the UPDATE and INSERT statements from this answer (as quoted
-- identifiers); values always travel as parameters.
--   needs_value: NOT NULL without a default, identity or generation, so an
--   INSERT must give it a value (a row registered by --register-new gets ''
--   for such text columns, as placeholders do).
SELECT a.attname::text AS column_name,
       format_type(a.atttypid, a.atttypmod) AS type_name,
       a.atttypid IN ('text'::regtype, 'character varying'::regtype, 'character'::regtype) AS is_text,
       a.attnotnull AND d.adbin IS NULL AND a.attidentity = '' AND a.attgenerated = '' AS needs_value
  FROM pg_catalog.pg_attribute AS a
  LEFT JOIN pg_catalog.pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attrelid = to_regclass('@app_schema@.llm_models')
   AND a.attnum > 0
   AND NOT a.attisdropped
 ORDER BY a.attnum;
