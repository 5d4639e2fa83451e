-- backfill: the app schema pgmodelnames was installed into (used when
-- neither --schema nor PGMODELNAMES_SCHEMA is given).
SELECT app_schema FROM pgmodelnames.installation;
