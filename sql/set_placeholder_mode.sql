-- upgrade --placeholders MODE: where placeholders come from.
--   trigger  the row trigger on messages (the default);
--   sweep    no trigger on messages: pgmodelnames.sweep(), run by
--            `pgmodelnames sweep`, every backfill pass, or pg_cron.
-- Returns the mode before. It leaves the history pass due (the history pass
-- in trigger mode, the first, full sweep that starts the high-water mark in
-- sweep mode), run next in a transaction of its own (install/history.sql).
SELECT pgmodelnames.set_placeholder_mode(@mode@);
