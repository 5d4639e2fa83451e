-- backfill: lock the rows about to be renamed, and re-check them.
--
-- Planning read the rows without locks (while the vLLM servers were being
-- asked); a human may have renamed one since. FOR UPDATE waits for any
-- transaction writing the row and returns its committed state: a row whose
-- name is no longer missing or machine-made is left alone.
SELECT l.id::text AS id,
       l.name,
       pgmodelnames.is_replaceable_name(l.id, l.name, l.provider) AS replaceable
  FROM @app_schema@.llm_models AS l
 WHERE l.id = ANY (%(ids)s::uuid[])
 ORDER BY l.id
   FOR UPDATE OF l;
