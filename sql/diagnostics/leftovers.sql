-- Is anything of pgmodelnames in this database, bookkeeping or not? One
-- boolean. uninstall runs it first: true also for a public-only restore
-- (the constraint came back, the pgmodelnames schema did not) or a
-- half-removed install, so that uninstall still finds what to remove.
SELECT to_regnamespace('pgmodelnames') IS NOT NULL
    OR to_regclass('@app_schema@.model_display_names') IS NOT NULL
    OR to_regprocedure('@app_schema@.model_display_name(uuid, text)') IS NOT NULL
    OR to_regprocedure('@app_schema@.model_display_name(text, text)') IS NOT NULL
    OR EXISTS (SELECT FROM pg_catalog.pg_constraint
                WHERE conrelid = to_regclass('@app_schema@.llm_models') AND conname = 'llm_models_name_present')
    OR EXISTS (SELECT FROM pg_catalog.pg_trigger
                WHERE (tgrelid = to_regclass('@app_schema@.llm_models')
                          AND tgname IN ('pgmodelnames_name_guard', 'pgmodelnames_adopt_placeholder'))
                   OR (tgrelid = to_regclass('@app_schema@.messages')
                       AND tgname IN ('zz_pgmodelnames_placeholder', 'zz_pgmodelnames_placeholder_insert'))
                   OR (tgrelid IN (SELECT p.relid FROM pg_catalog.pg_partition_tree(to_regclass('@app_schema@.messages')) AS p)
                       AND tgname = 'zz_pgmodelnames_placeholder_insert'))
       AS leftovers;
