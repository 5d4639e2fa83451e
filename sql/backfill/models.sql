-- backfill: every llm_models row, with what the matching rules need.
--
-- Optional columns are read through to_jsonb(l), so this one query fits
-- every shape of llm_models (a missing column reads as NULL).
--   covered:     the provider is one pgmodelnames covers (default vllm);
--                only such rows are matched, and only their base_urls are
--                queried.
--   replaceable: the name is missing (NULL, blank, its own UUID) or a
--                machine name (the one recorded in pgmodelnames.machine_names,
--                or exactly its placeholder name). Anything else is a human
--                name: backfill never touches that row.
--   placeholder: still named like a placeholder (listed when unresolved).
--   recorded_endpoint: the endpoint backfill (or --map) took the row's
--                machine name from; it stands in for an empty base_url, so
--                the row stays matched (and current) there.
-- The bookkeeping has row-level security and no policy: run backfill as the
-- owner of the pgmodelnames schema (or a superuser); another role would see
-- every name as human and change nothing.
SELECT l.id::text AS id,
       l.name,
       l.provider,
       pgmodelnames.normalized_provider(l.provider) IN (SELECT provider FROM pgmodelnames.covered_providers)
           AS covered,
       to_jsonb(l) ->> 'base_url' AS base_url,
       to_jsonb(l) ->> 'model_id' AS model_id,
       to_jsonb(l) ->> 'served_model_name' AS served_model_name,
       to_jsonb(l) ->> 'base_model' AS base_model,
       pgmodelnames.is_replaceable_name(l.id, l.name, l.provider) AS replaceable,
       (NOT pgmodelnames.is_usable_name(l.name)
        OR pgmodelnames.is_placeholder_name(l.name, l.id, l.provider)) AS placeholder,
       mn.endpoint AS recorded_endpoint,
       -- the name a typed name may not be (it would read as "no real name yet")
       pgmodelnames.placeholder_name(l.id, l.provider) AS placeholder_name
  FROM @app_schema@.llm_models AS l
  LEFT JOIN pgmodelnames.machine_names AS mn
         ON mn.model_uuid = l.id AND mn.source = 'server' AND mn.name = l.name
 ORDER BY l.id;
