-- backfill: is pgmodelnames installed?
--
-- Runs before the app schema is known, so it names no app object. True when
-- the bookkeeping backfill reads and writes exists.
SELECT to_regclass('pgmodelnames.machine_names') IS NOT NULL
   AND to_regclass('pgmodelnames.installation') IS NOT NULL
   AND to_regclass('pgmodelnames.covered_providers') IS NOT NULL AS installed;
