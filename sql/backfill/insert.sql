-- backfill --register-new: add an llm_models row for a served model that
-- has none.
--
-- The columns and values markers are built by Python from columns.sql: id, name,
-- provider ('vllm'), and where the columns exist base_url, model_id,
-- served_model_name, base_model, user_id (--user-id), plus '' for any other
-- NOT NULL text column without a default. Every value is a parameter.
INSERT INTO @app_schema@.llm_models AS l (@columns@)
VALUES (@values@)
RETURNING l.id::text, l.name;
