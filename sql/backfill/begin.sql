-- backfill: start the one transaction that applies a pass.
--
-- The advisory lock serialises backfill runs (two --watch services, or a
-- manual run beside one): each plans from what the previous one committed,
-- so a served model is never registered twice. App writes do not take it;
-- the row locks in lock.sql guard against those. lock_timeout bounds the
-- wait (lock_not_available -> exit code 5).
SET LOCAL lock_timeout = '10s';
SELECT pg_advisory_xact_lock(hashtext('pgmodelnames.backfill'));
