-- Revision 0007, before its schema: what a database at revision 0006 (or
-- brought there by sql/0006_baseline/legacy.sql) holds in another shape.
-- schema.sql makes sweep_state only where it is missing, so the column it
-- gained is added here; a fresh install gets it from schema.sql, last in
-- both cases (the drift check compares column lists). Everything else of
-- 0007 is CREATE OR REPLACE in schema.sql: the trigger's new shape comes
-- from install_placeholder_trigger(), which the plan runs (the revision
-- changed: everything is remade).
DO $do$
BEGIN
    IF to_regclass('pgmodelnames.sweep_state') IS NOT NULL THEN
        ALTER TABLE pgmodelnames.sweep_state
            ADD COLUMN IF NOT EXISTS trigger_shape text NOT NULL DEFAULT 'auto'
                CHECK (trigger_shape IN ('auto', 'row', 'statement'));
    END IF;
END
$do$;
