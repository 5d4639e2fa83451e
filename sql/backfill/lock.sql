-- backfill: lock the rows about to be renamed, and re-check them.
--
-- Planning read the rows without locks (while the vLLM servers were being
-- asked); a human may have renamed one since. FOR UPDATE waits for any
-- transaction writing the row and returns its committed state: a row whose
-- name is no longer missing or machine-made is left alone.
SELECT l.id::text AS id,
       l.name,
       (NOT pgmodelnames.is_usable_name(l.name)
        OR btrim(l.name) = pgmodelnames.placeholder_name(l.id, l.provider)
        OR EXISTS (SELECT FROM pgmodelnames.machine_names AS mn
                    WHERE mn.model_uuid = l.id AND mn.name = l.name)) AS replaceable
  FROM @app_schema@.llm_models AS l
 WHERE l.id = ANY (%(ids)s::uuid[])
 ORDER BY l.id
   FOR UPDATE OF l;
