-- Every object pgmodelnames installs, as the catalog shows it now: one row
-- per object, with what a change made outside pgmodelnames would alter
-- (facts). The install records these rows in pgmodelnames.installed_objects
-- right after writing the objects; the doctor runs this query itself (a
-- changed function must not vouch for itself) and names every object whose
-- facts differ. Reads only the catalog.
--
-- Definitions are hashed as the server renders them (pg_get_functiondef,
-- pg_get_viewdef, pg_get_triggerdef), which depends on search_path: run it
-- with search_path = pg_catalog, pg_temp, as pgmodelnames does, so that
-- every name is rendered with its schema. The rendering may change with a
-- PostgreSQL major version, hence the 'postgresql' row.
--
-- Privileges count on pgmodelnames' own schema, tables and functions (no
-- role but the owner may hold one there, except PUBLIC's EXECUTE on the
-- naming rules). The view and model_display_name() live in the app's schema,
-- and who may read them is the app's choice: their privileges are not facts.
--
-- Run it alone (schema public):
--   sed 's/@app_schema@/"public"/g' object_facts.sql | PGOPTIONS='-c search_path=pg_catalog,pg_temp' psql "$DATABASE_URL"
SELECT 'postgresql' AS object,
       jsonb_build_object('major', current_setting('server_version_num')::integer / 10000) AS facts
UNION ALL
SELECT 'schema pgmodelnames',
       jsonb_build_object(
           'owner', pg_get_userbyid(n.nspowner),
           'privileges', (SELECT string_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END
                                            || ' ' || a.privilege_type, ', ' ORDER BY 1)
                            FROM aclexplode(n.nspacl) AS a WHERE a.grantee <> n.nspowner))
  FROM pg_catalog.pg_namespace AS n
 WHERE n.nspname = 'pgmodelnames'
UNION ALL
SELECT 'table ' || c.oid::regclass::text,
       jsonb_build_object(
           'owner', pg_get_userbyid(c.relowner),
           'privileges', (SELECT string_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END
                                            || ' ' || a.privilege_type, ', ' ORDER BY 1)
                            FROM aclexplode(c.relacl) AS a WHERE a.grantee <> c.relowner),
           'row_security', c.relrowsecurity,
           'policies', (SELECT string_agg(concat_ws(' ', p.polname, p.polcmd, p.polpermissive, p.polroles::text,
                                                    pg_get_expr(p.polqual, p.polrelid),
                                                    pg_get_expr(p.polwithcheck, p.polrelid)), '; ' ORDER BY p.polname)
                          FROM pg_catalog.pg_policy AS p WHERE p.polrelid = c.oid),
           'columns', (SELECT md5(string_agg(concat_ws(' ', a.attname, format_type(a.atttypid, a.atttypmod),
                                                       a.attnotnull), ', ' ORDER BY a.attnum))
                         FROM pg_catalog.pg_attribute AS a
                        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped))
  FROM pg_catalog.pg_class AS c
 WHERE c.relnamespace = to_regnamespace('pgmodelnames') AND c.relkind IN ('r', 'p')
UNION ALL
SELECT 'function ' || p.oid::regprocedure::text,
       jsonb_build_object(
           'definition', md5(pg_get_functiondef(p.oid)),
           'owner', pg_get_userbyid(p.proowner),
           'privileges', CASE WHEN p.pronamespace = to_regnamespace('pgmodelnames') THEN
                             (SELECT string_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END
                                                || ' ' || a.privilege_type, ', ' ORDER BY 1)
                                FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) AS a
                               WHERE a.grantee <> p.proowner) END,
           'comment', md5(obj_description(p.oid, 'pg_proc')))
  FROM pg_catalog.pg_proc AS p
 WHERE p.pronamespace = to_regnamespace('pgmodelnames')
    OR p.oid = to_regprocedure('@app_schema@.model_display_name(uuid, text)')
    OR p.oid = to_regprocedure('@app_schema@.model_display_name(text, text)')
UNION ALL
SELECT 'view ' || c.oid::regclass::text,
       jsonb_build_object(
           'definition', md5(pg_get_viewdef(c.oid)),
           'options', (SELECT string_agg(o, ', ' ORDER BY o) FROM unnest(c.reloptions) AS o),
           'owner', pg_get_userbyid(c.relowner),
           'comment', md5(concat_ws(' | ', obj_description(c.oid, 'pg_class'),
                                    (SELECT string_agg(a.attname || ': ' || col_description(c.oid, a.attnum), ' | '
                                                       ORDER BY a.attnum)
                                       FROM pg_catalog.pg_attribute AS a
                                      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped))))
  FROM pg_catalog.pg_class AS c
 WHERE c.oid = to_regclass('@app_schema@.model_display_names')
UNION ALL
SELECT 'trigger ' || t.tgname || ' on ' || t.tgrelid::regclass::text,
       jsonb_build_object(
           'definition', md5(pg_get_triggerdef(t.oid)),
           'enabled', t.tgenabled,
           'comment', md5(obj_description(t.oid, 'pg_trigger')))
  FROM pg_catalog.pg_trigger AS t
 WHERE (t.tgrelid = to_regclass('@app_schema@.llm_models')
        AND t.tgname IN ('pgmodelnames_name_guard', 'pgmodelnames_adopt_placeholder'))
    OR (t.tgrelid = to_regclass('@app_schema@.messages')
        AND t.tgname IN ('zz_pgmodelnames_placeholder', 'zz_pgmodelnames_placeholder_insert'))
UNION ALL
-- What the shape of the trigger on messages depends on (revision 0007): a
-- FOREIGN KEY from messages.model_id to llm_models (added or dropped, the
-- shape must change), and, where the statement trigger is installed, the
-- partitions of messages that lack it (one created since: its own inserts
-- would get no placeholders). The next upgrade installs the right shape.
SELECT 'placeholder trigger shape on ' || m.oid::regclass::text,
       jsonb_build_object(
           'foreign_key', (@include diagnostics/registry_foreign_key.sql@),
           'partitions_without_trigger',
               (SELECT string_agg(p.relid::regclass::text, ', ' ORDER BY p.relid::regclass::text)
                  FROM pg_catalog.pg_partition_tree(m.oid) AS p
                  JOIN pg_catalog.pg_class AS c ON c.oid = p.relid AND c.relkind IN ('r', 'p')
                 WHERE EXISTS (SELECT FROM pg_catalog.pg_trigger AS t
                                WHERE t.tgrelid = m.oid AND t.tgname = 'zz_pgmodelnames_placeholder_insert')
                   AND NOT EXISTS (SELECT FROM pg_catalog.pg_trigger AS t
                                    WHERE t.tgrelid = p.relid AND t.tgname = 'zz_pgmodelnames_placeholder_insert')))
  FROM pg_catalog.pg_class AS m
 WHERE m.oid = to_regclass('@app_schema@.messages')
UNION ALL
SELECT 'constraint ' || c.conname || ' on ' || c.conrelid::regclass::text,
       jsonb_build_object(
           'definition', pg_get_constraintdef(c.oid),
           'validated', c.convalidated,
           'name_not_null', (SELECT a.attnotnull FROM pg_catalog.pg_attribute AS a
                              WHERE a.attrelid = c.conrelid AND a.attname = 'name'),
           'comment', md5(obj_description(c.oid, 'pg_constraint')))
  FROM pg_catalog.pg_constraint AS c
 WHERE c.conrelid = to_regclass('@app_schema@.llm_models') AND c.conname = 'llm_models_name_present'
