-- Install, step 1: what this install must (re)make on the app's tables, so
-- that step 2 takes exactly the locks it needs, and no more. Kept in the
-- transaction-local setting pgmodelnames.rebuild, a comma-separated list:
--   all         nothing of this revision is recorded here (nothing installed,
--               an earlier revision, a half install, a public-only restore,
--               another PostgreSQL major version), or pgmodelnames' own
--               schema or tables differ: (re)make everything;
--   llm_models  the name guard or the name constraint differ from what was
--               installed;
--   view        the view differs;
--   messages    the placeholder triggers differ (or are there in sweep mode),
--               or their shape must change (a FOREIGN KEY added or dropped,
--               a partition without the statement trigger).
--   none        the app's tables are as installed: this install takes no
--               lock on them (its functions are replaced all the same: that
--               locks nothing the app uses).
-- schema.sql run alone, without this plan, (re)makes everything. Reads only
-- the catalog and pgmodelnames' bookkeeping.
DO $plan$
DECLARE
    rebuild text[] := '{}';
    changed record;
BEGIN
    IF to_regclass('pgmodelnames.installed_objects') IS NULL
       OR to_regclass('pgmodelnames.alembic_version') IS NULL
       OR NOT EXISTS (SELECT FROM pgmodelnames.alembic_version WHERE version_num = '@revision@') THEN
        rebuild := ARRAY['all'];
    ELSE
        FOR changed IN
@include diagnostics/drift.sql@
        LOOP
            rebuild := rebuild || CASE
                WHEN changed.object LIKE 'trigger pgmodelnames_name_guard %'
                  OR changed.object LIKE 'trigger pgmodelnames_adopt_placeholder %'
                  OR changed.object LIKE 'constraint %' THEN 'llm_models'
                WHEN changed.object LIKE 'trigger zz_pgmodelnames_placeholder %'
                  OR changed.object LIKE 'trigger zz_pgmodelnames_placeholder_insert %'
                  OR changed.object LIKE 'placeholder trigger shape %' THEN 'messages'
                WHEN changed.object LIKE 'view %' THEN 'view'
                WHEN changed.object LIKE 'function %' THEN 'functions'
                ELSE 'all' END::text;
        END LOOP;
    END IF;
    PERFORM set_config('pgmodelnames.rebuild',
                       coalesce(nullif(array_to_string(ARRAY(SELECT DISTINCT unnest(rebuild)), ','), ''), 'none'), true);
END
$plan$;
