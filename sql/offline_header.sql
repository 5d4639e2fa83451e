-- pgmodelnames for app schema @app_schema_literal@: apply with psql -v ON_ERROR_STOP=1 -f FILE
--
-- The whole script is one chain of transactions on one connection (COMMIT
-- AND CHAIN between steps keeps the server connection, also behind a
-- transaction-mode pooler such as Supabase's port 6543). Every setting is
-- SET LOCAL; the migration lock below is released before the final COMMIT.
-- Every revision is idempotent: the script applies cleanly to a database
-- where pgmodelnames is missing, partly present (a public-only restore, a
-- reinstall after `downgrade base`) or already installed.
--
-- What the first install touches in your tables: it fills missing
-- llm_models names with an UPDATE, so your own UPDATE triggers on
-- llm_models fire for those rows (an updated_at column moves to now, audit
-- or NOTIFY triggers fire). Rows with a name are not updated.
BEGIN;
SET LOCAL lock_timeout = '60s';
-- One migration at a time (another replica waits here, at most 60 s).
SELECT pg_advisory_lock(@lock_key@);
SET LOCAL lock_timeout = '5s';
