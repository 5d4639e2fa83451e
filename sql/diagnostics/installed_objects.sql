-- Doctor: which pgmodelnames objects are in place, and are they switched on?
-- One row. Reads only the catalog: works before install, after uninstall,
-- and on a half-removed installation.
--
-- Run it alone (schema public):
--   sed 's/@app_schema_literal@/public/g; s/@app_schema@/"public"/g' installed_objects.sql | psql "$DATABASE_URL"
--
-- Triggers: pg_trigger.tgenabled is 'O' (fires) or 'A' (fires always) when
-- on; 'D' means ALTER TABLE ... DISABLE TRIGGER was run, 'R' fires only on a
-- logical-replication replica. Either way new models get no name.
--
-- The placeholder trigger (revision 0007) is one row trigger
-- zz_pgmodelnames_placeholder on INSERT and UPDATE (row shape), or that row
-- trigger for UPDATE only plus the statement trigger
-- zz_pgmodelnames_placeholder_insert for INSERT (statement shape; bit 4 of
-- tgtype is INSERT). Present means: the row trigger is there, and something
-- covers INSERT.
--
-- The view must keep security_invoker = true: a CREATE OR REPLACE VIEW
-- without the WITH clause silently drops it, and the view then reads
-- llm_models with its owner's rights, bypassing row-level security.
WITH app AS (
    SELECT to_regclass(format('%I.llm_models', '@app_schema_literal@'))          AS llm_models,
           to_regclass(format('%I.messages', '@app_schema_literal@'))            AS messages,
           to_regclass(format('%I.model_display_names', '@app_schema_literal@')) AS view
),
trig AS (
    SELECT t.tgname, t.tgenabled, t.tgtype
      FROM pg_catalog.pg_trigger t, app
     WHERE (t.tgrelid = app.llm_models AND t.tgname = 'pgmodelnames_name_guard')
        OR (t.tgrelid = app.messages AND t.tgname IN ('zz_pgmodelnames_placeholder',
                                                       'zz_pgmodelnames_placeholder_insert'))
),
placeholder AS (
    SELECT CASE WHEN NOT EXISTS (SELECT FROM trig WHERE tgname = 'zz_pgmodelnames_placeholder')
                    THEN 'zz_pgmodelnames_placeholder'
                WHEN NOT EXISTS (SELECT FROM trig WHERE tgname = 'zz_pgmodelnames_placeholder_insert'
                                    OR (tgname = 'zz_pgmodelnames_placeholder' AND tgtype & 4 <> 0))
                    THEN 'zz_pgmodelnames_placeholder_insert'
           END AS missing,
           ARRAY(SELECT tgname::text FROM trig
                  WHERE tgname LIKE 'zz\_pgmodelnames\_placeholder%' AND tgenabled NOT IN ('O', 'A')
                  ORDER BY 1) AS disabled
)
SELECT to_regnamespace('pgmodelnames') IS NOT NULL                              AS schema_exists,
       to_regclass('pgmodelnames.alembic_version') IS NOT NULL                   AS has_version_table,
       to_regclass('pgmodelnames.installation') IS NOT NULL                      AS has_installation,
       app.view IS NOT NULL                                                       AS view_exists,
       (SELECT c.relkind = 'v' AND coalesce(
                   (SELECT bool_or(lower(o) IN ('security_invoker=true', 'security_invoker=on',
                                                'security_invoker=1', 'security_invoker=yes'))
                      FROM unnest(c.reloptions) AS o), false)
          FROM pg_catalog.pg_class c WHERE c.oid = app.view)                     AS view_security_invoker,
       EXISTS (SELECT FROM trig WHERE tgname = 'pgmodelnames_name_guard')         AS guard_trigger_exists,
       (SELECT tgenabled IN ('O', 'A') FROM trig
         WHERE tgname = 'pgmodelnames_name_guard')                               AS guard_trigger_enabled,
       (SELECT missing IS NULL FROM placeholder)                                  AS placeholder_trigger_exists,
       (SELECT missing FROM placeholder)                                          AS placeholder_trigger_missing,
       (SELECT cardinality(disabled) = 0 FROM placeholder)                        AS placeholder_trigger_enabled,
       (SELECT disabled FROM placeholder)                                         AS placeholder_triggers_disabled,
       (SELECT con.convalidated FROM pg_catalog.pg_constraint con
         WHERE con.conrelid = app.llm_models AND con.conname = 'llm_models_name_present') AS name_check_validated,
       (SELECT a.attnotnull FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = app.llm_models AND a.attname = 'name' AND NOT a.attisdropped) AS name_not_null,
       to_regprocedure(format('%I.model_display_name(uuid, text)', '@app_schema_literal@')) IS NOT NULL
           AND to_regprocedure(format('%I.model_display_name(text, text)', '@app_schema_literal@')) IS NOT NULL
                                                                                  AS display_name_function_exists
  FROM app;
