-- After an install's commit, in a transaction of its own: the history pass
-- (placeholders for the messages stored before the trigger was there), when
-- the install left it due. It reads messages with ACCESS SHARE, which blocks
-- no insert, and could run for seconds on a large table: inside the install's
-- transaction it would hold the install's locks that long. If it does not
-- run (the script is cut off here), the install is complete all the same,
-- the doctor says the pass is due, and the next upgrade runs it.
BEGIN;
SET LOCAL search_path = pg_catalog, pg_temp;
SET LOCAL statement_timeout = 0;
SELECT pgmodelnames.history_pass_if_due() AS placeholders_created;
COMMIT;
