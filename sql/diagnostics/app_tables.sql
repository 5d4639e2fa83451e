-- Doctor: does the app schema hold the tables pgmodelnames works on, and how
-- big is messages? One row. Reads only the catalog: works before install.
--
-- Run it alone: the doctor fills in @app_schema@ (quoted) and
-- @app_schema_literal@ (bare name); by hand, for schema public:
--   sed 's/@app_schema_literal@/public/g; s/@app_schema@/"public"/g' app_tables.sql | psql "$DATABASE_URL"
--
-- model_id_indexed: a btree index whose first column is messages.model_id
-- (no predicate). The doctor then reads the distinct model ids with a loose
-- index scan (pgmodelnames.doctor_use_index=on in unknown_model_ids.sql) instead of a full scan.
SELECT to_regnamespace(quote_ident('@app_schema_literal@')) IS NOT NULL        AS schema_exists,
       to_regclass(format('%I.llm_models', '@app_schema_literal@')) IS NOT NULL AS has_llm_models,
       to_regclass(format('%I.messages', '@app_schema_literal@')) IS NOT NULL   AS has_messages,
       (SELECT format_type(a.atttypid, a.atttypmod)
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = to_regclass(format('%I.messages', '@app_schema_literal@'))
           AND a.attname = 'model_id' AND NOT a.attisdropped)                  AS messages_model_id_type,
       EXISTS (
           SELECT FROM pg_catalog.pg_index i
             JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
             JOIN pg_catalog.pg_am am ON am.oid = ic.relam
             JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
            WHERE i.indrelid = to_regclass(format('%I.messages', '@app_schema_literal@'))
              AND am.amname = 'btree' AND i.indpred IS NULL AND i.indisvalid
              AND a.attname = 'model_id')                                      AS model_id_indexed,
       -- The planner's estimate (-1 or 0 before the first ANALYZE): free to read.
       (SELECT greatest(c.reltuples, 0)::bigint
          FROM pg_catalog.pg_class c
         WHERE c.oid = to_regclass(format('%I.messages', '@app_schema_literal@'))) AS messages_estimate;
