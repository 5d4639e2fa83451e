-- backfill: one clause of update.sql's SET list, repeated for each optional
-- column that exists and is text (model_id, served_model_name, base_model).
-- Python fills in the column as a quoted identifier and the value as a
-- parameter marker (the markers are named column and value). App data is only ever filled where it is empty, never
-- overwritten.
, @column@ = CASE WHEN coalesce(pgmodelnames.trimmed(l.@column@::text), '') = '' THEN @value@ ELSE l.@column@ END
