-- Placeholders for every stored message: the history pass in trigger mode,
-- a full sweep (restarting the high-water mark) in sweep mode. Idempotent.
SELECT created FROM pgmodelnames.sweep(full => true);
