-- rename: other models that already carry the new name (allowed: analytics
-- will group them together, so rename says so).
SELECT count(*) FROM @app_schema@.llm_models AS l WHERE l.name = %(name)s AND l.id <> %(id)s;
