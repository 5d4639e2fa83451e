-- upgrade --providers: change which providers' unknown model UUIDs get
-- placeholders. Re-creates the trigger's WHEN clause (or the sweep's filter)
-- and leaves the history pass for newly covered providers due (run next, in
-- a transaction of its own: install/history.sql).
SELECT pgmodelnames.set_covered_providers(ARRAY[@providers@]::text[]);
