-- upgrade --providers: change which providers' unknown model UUIDs get
-- placeholders. Re-creates the trigger's WHEN clause (or the sweep's filter)
-- and gives placeholders to the history of newly covered providers.
SELECT pgmodelnames.set_covered_providers(ARRAY[@providers@]::text[]);
