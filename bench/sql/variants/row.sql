-- Variant row, applied after pgmodelnames upgrade: the BEFORE ROW trigger of
-- revisions 0001-0006, forced where pgmodelnames would install the
-- statement-level one (the bench schema has no FOREIGN KEY).
SELECT pgmodelnames.set_trigger_shape('row');
