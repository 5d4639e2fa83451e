-- Revision 0005 down: back to the trigger, then remove sweep mode. The
-- migration then replays 0004_hardening/upgrade.sql (idempotent), which
-- restores that revision's UUID-shape test, history pass and trigger.
SET LOCAL lock_timeout = '5s';

-- No pg_cron job may go on calling a function that is about to go.
SELECT pgmodelnames.unschedule_sweep() WHERE to_regprocedure('pgmodelnames.unschedule_sweep(boolean)') IS NOT NULL;

-- In sweep mode: the trigger first (refused, in one line, on a distributed
-- messages table: below 0005 there is no other mode), committed before the
-- history pass gives placeholders to what the last sweep had not reached.
DO $trigger$
BEGIN
    IF to_regclass('pgmodelnames.sweep_state') IS NOT NULL
       AND (SELECT mode FROM pgmodelnames.sweep_state) = 'sweep' THEN
        PERFORM pgmodelnames.set_placeholder_mode('trigger');
        UPDATE pgmodelnames.sweep_state SET method = 'full';  -- marks the history pass below as due
    END IF;
END
$trigger$;
COMMIT AND CHAIN;
SET LOCAL lock_timeout = '5s';
SELECT pgmodelnames.create_missing_placeholders()
 WHERE to_regclass('pgmodelnames.sweep_state') IS NOT NULL
   AND (SELECT method FROM pgmodelnames.sweep_state) = 'full'
   AND (SELECT mode FROM pgmodelnames.sweep_state) = 'trigger';

DROP FUNCTION IF EXISTS pgmodelnames.sweep_status();
DROP FUNCTION IF EXISTS pgmodelnames.schedule_sweep(text, text);
DROP FUNCTION IF EXISTS pgmodelnames.unschedule_sweep(boolean);
DROP FUNCTION IF EXISTS pgmodelnames.set_placeholder_mode(text);
DROP FUNCTION IF EXISTS pgmodelnames.sweep(boolean, interval);
DROP FUNCTION IF EXISTS pgmodelnames.set_sweep_method(text);
DROP FUNCTION IF EXISTS pgmodelnames.sweep_method();
DROP FUNCTION IF EXISTS pgmodelnames.create_placeholders_by_index();
-- create_missing_placeholders() and install_placeholder_trigger() call these:
-- the 0004 replay that follows restores their own bodies.
DROP FUNCTION IF EXISTS pgmodelnames.create_missing_placeholders();
DROP FUNCTION IF EXISTS pgmodelnames.create_placeholders_where(text);
DROP FUNCTION IF EXISTS pgmodelnames.install_placeholder_trigger();
DROP FUNCTION IF EXISTS pgmodelnames.refuse_trigger_on_distributed();
DROP TABLE IF EXISTS pgmodelnames.sweep_state;
DROP FUNCTION IF EXISTS pgmodelnames.messages_is_distributed();
