-- rename: the model to rename, locked against a concurrent writer (the app,
-- a backfill pass) until the rename commits. Row-level security applies: a
-- row the database user cannot see counts as unknown (see hidden_by_rls.sql).
SELECT l.name, l.provider
  FROM @app_schema@.llm_models AS l
 WHERE l.id = %(id)s
   FOR UPDATE;
