-- Doctor: where placeholders come from (revision 0005 or later; the doctor
-- runs it only then). One row: the mode (trigger or sweep), whether messages
-- is a Citus distributed table, and in sweep mode how the sweep reads
-- messages (method: column = a high-water mark on mark_column, index = the
-- distinct ids of an index on model_id, full = all of messages), its mark,
-- when it last ran and what it created, a transaction holding the mark back,
-- and the pg_cron jobs that run it. seconds_since_last_sweep is measured on
-- the server's clock.
--   psql "$DATABASE_URL" -f placeholder_mode.sql
SELECT s.*,
       extract(epoch FROM clock_timestamp() - s.last_sweep_at)::double precision AS seconds_since_last_sweep
  FROM pgmodelnames.sweep_status() AS s;
