-- Release the migration lock; the transaction-level lock on the same key
-- keeps the next migration waiting until this COMMIT is visible.
SELECT pg_advisory_xact_lock(@lock_key@), pg_advisory_unlock(@lock_key@);
COMMIT;
