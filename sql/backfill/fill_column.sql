-- backfill: one clause of update.sql's SET list, repeated for each optional
-- column that exists and is text (model_id, served_model_name, base_model).
-- Python fills in the column as a quoted identifier and the value as a
-- parameter. App data is only ever filled where it is empty, never
-- overwritten.
, {col} = CASE WHEN coalesce(pgmodelnames.trimmed(l.{col}::text), '') = '' THEN {value} ELSE l.{col} END
