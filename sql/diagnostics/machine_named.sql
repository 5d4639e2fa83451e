-- Doctor: how many covered-provider models carry a name that pgmodelnames
-- wrote (from model_id or served_model_name, by the guard, or from a vLLM
-- server by backfill), apart from placeholder names. The rest of the "named"
-- models in models_by_state.sql were named by a human and are never replaced.
-- Needs pgmodelnames installed; the doctor runs it only then.
--   sed 's/@app_schema_literal@/public/g; s/@app_schema@/"public"/g' machine_named.sql | psql "$DATABASE_URL"
SELECT lower(btrim(l.provider)) AS provider,
       count(*) AS models
  FROM @app_schema@.llm_models AS l
  JOIN pgmodelnames.machine_names AS mn ON mn.model_uuid = l.id AND mn.name = l.name
 WHERE lower(btrim(l.provider)) IN (SELECT provider FROM pgmodelnames.covered_providers)
   AND pgmodelnames.is_usable_name(l.name)
   -- = NOT pgmodelnames.is_placeholder_name(l.name, l.id, l.provider), spelled
   -- out: a database of pgmodelnames 0.1 has no such function
   AND btrim(l.name) NOT IN (
           SELECT 'Unknown '
                  || coalesce(left(regexp_replace(nullif(lower(btrim(l.provider)), ''), '[[:cntrl:]]', '', 'g'), 40)
                              || ' ', '')
                  || 'model ' || left(l.id::text, w)
             FROM unnest(ARRAY[8, 13, 18, 23, 36]) AS w)
 GROUP BY 1
 ORDER BY 1;
