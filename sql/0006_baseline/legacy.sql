-- Revision 0006, before its schema: what a database installed by revisions
-- 0001-0005 (pgmodelnames 0.1, folded into this baseline) holds in another
-- shape than schema.sql expects. Each step looks first and changes only what
-- it finds; on any other database this file changes nothing. The install's
-- lock step has taken the app's tables (an earlier revision makes the plan
-- "all"), so the ALTER TABLE below waits for nobody the app holds.

-- sweep_state (0005) lacked the columns of the history pass, of skipped
-- placeholders and of paused schedules.
DO $do$
DECLARE
    wanted record;
BEGIN
    IF to_regclass('pgmodelnames.sweep_state') IS NULL THEN
        RETURN;
    END IF;
    FOR wanted IN
        SELECT c.name, c.type FROM (VALUES (1, 'history_due_since', 'timestamptz'), (2, 'placeholders_skipped', 'bigint'),
                                           (3, 'skip_reason', 'text'), (4, 'skipped_at', 'timestamptz'),
                                           (5, 'paused_schedule', 'text'), (6, 'paused_full_schedule', 'text'))
                      AS c(position, name, type)
         WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_attribute
                            WHERE attrelid = to_regclass('pgmodelnames.sweep_state') AND attname = c.name
                              AND NOT attisdropped)
         ORDER BY c.position  -- schema.sql's order: the drift check hashes the columns in order
    LOOP
        EXECUTE format('ALTER TABLE pgmodelnames.sweep_state ADD COLUMN %I %s', wanted.name, wanted.type);
    END LOOP;
END
$do$;

-- set_covered_providers() returned the placeholders it created (0003-0005);
-- the history pass now runs in a transaction of its own, and the function
-- returns nothing. CREATE OR REPLACE cannot change a return type.
DO $do$
BEGIN
    IF (SELECT prorettype FROM pg_catalog.pg_proc
         WHERE oid = to_regprocedure('pgmodelnames.set_covered_providers(text[])')) <> 'void'::regtype THEN
        DROP FUNCTION pgmodelnames.set_covered_providers(text[]);
    END IF;
END
$do$;
