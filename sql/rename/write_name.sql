-- rename: store the human name and read back what the database kept (an
-- app trigger could rewrite it; then rename reports that instead of success).
-- The model's machine-name mark is removed in the same transaction by
-- forget_machine_name.sql, so neither the view (is_placeholder) nor backfill
-- treat the name as theirs.
UPDATE @app_schema@.llm_models AS l
   SET name = %(name)s
 WHERE l.id = %(id)s
RETURNING l.name;
