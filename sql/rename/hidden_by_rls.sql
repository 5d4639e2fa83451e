-- rename: could row-level security be hiding rows of llm_models from the
-- current user? (RLS on, the user is neither superuser nor BYPASSRLS, and
-- not the owner unless FORCE ROW LEVEL SECURITY.) Explains an "unknown" UUID.
SELECT c.relrowsecurity AND NOT (r.rolsuper OR r.rolbypassrls)
       AND (c.relowner <> r.oid OR c.relforcerowsecurity)
  FROM pg_catalog.pg_class c, pg_catalog.pg_roles r
 WHERE c.oid = to_regclass('@app_schema@.llm_models') AND r.rolname = current_user;
