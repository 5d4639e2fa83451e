-- pgmodelnames @revision@ for app schema @app_schema_literal@.
-- Apply with psql -v ON_ERROR_STOP=1 -f FILE, or put it into a Supabase
-- migration folder (supabase db push / migration up).
--
-- All or nothing: the install is ONE transaction (BEGIN ... COMMIT below).
-- If any statement fails, whoever runs it (psql with or without -1 or
-- ON_ERROR_STOP, a single simple query, the Supabase CLI) ends up rolling
-- it back, and the database is exactly as it was. The script applies to any
-- state: nothing installed, an earlier revision, a half install, a
-- public-only restore, or this revision (applied again, it restores what
-- was changed outside pgmodelnames and leaves the rest untouched). A
-- database with a revision newer than this one is refused before anything.
--
-- After the COMMIT, a second, short transaction runs the history pass
-- (placeholders for the messages already stored), outside the install so
-- that the app's inserts never wait for its scan of messages.
--
-- What the first install touches in your tables: it fills missing
-- llm_models names with an UPDATE, so your own UPDATE triggers on
-- llm_models fire for those rows (an updated_at column moves to now, audit
-- or NOTIFY triggers fire). Rows with a name are not updated.
BEGIN;
-- Our statements never see the app's schemas on the search_path.
SET LOCAL search_path = pg_catalog, pg_temp;
-- Only warnings and errors reach the client ("already exists, skipping" would be noise).
SET LOCAL client_min_messages = warning;
-- The install is bounded by its own lock attempts (about a minute at most)
-- and scans only llm_models: a role's or database's shorter statement_timeout
-- must not cut it off, and nothing in it can run for long.
SET LOCAL statement_timeout = '5min';
SET LOCAL lock_timeout = '60s';
-- One migration at a time (another replica waits here, at most 60 s).
SELECT pg_advisory_xact_lock(@lock_key@);
SET LOCAL lock_timeout = '5s';
-- Attempts of 100 ms at the app's tables' locks (upgrade --lock-attempts).
SET LOCAL pgmodelnames.lock_attempts = '@lock_attempts@';
