-- Doctor, sweep mode with a high-water mark: how many covered model UUIDs of
-- messages have no llm_models row although every one of their messages lies
-- below the mark. An incremental sweep reads only at or above it, so these
-- wait for a full sweep, not for the next one: their mark column was set by
-- the app (an import keeping its old created_at, an app clock behind the
-- server's, an explicit identity value). @mark_column@ is the quoted column,
-- @mark@ the mark as a typed literal.
SELECT count(*) AS model_ids
  FROM (SELECT m.model_id::text AS model_id, max(m.@mark_column@) AS newest
          FROM @app_schema@.messages AS m
         WHERE m.model_id IS NOT NULL
           AND lower(btrim(m.provider)) IN (SELECT provider FROM pgmodelnames.covered_providers)
         GROUP BY 1) AS o
 WHERE pgmodelnames.looks_like_uuid(o.model_id)
   AND NOT EXISTS (SELECT FROM @app_schema@.llm_models AS l WHERE l.id = o.model_id::uuid)
   AND o.newest < @mark@
