-- upgrade --placeholders MODE: where placeholders come from.
--   trigger  the row trigger on messages (the default);
--   sweep    no trigger on messages: pgmodelnames.sweep(), run by
--            `pgmodelnames sweep`, every backfill pass, or pg_cron.
-- The switch is one transaction; the next statement, in a transaction of its
-- own, gives placeholders to what messages already hold (the history pass,
-- or the first, full sweep that starts the sweep's high-water mark).
SELECT pgmodelnames.set_placeholder_mode(@mode@);
