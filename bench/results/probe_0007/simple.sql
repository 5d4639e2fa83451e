-- a simpler query: distinct raw pairs first, one anti join, no CTE; no exception block on the common path
CREATE OR REPLACE FUNCTION pgmodelnames.messages_placeholders_uuid_statement()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    ids       uuid[];
BEGIN
    SELECT array_agg(DISTINCT n.model_id) INTO ids
      FROM new_messages AS n
     WHERE n.model_id IS NOT NULL
       AND lower(btrim(n.provider)) IN (SELECT c.provider FROM pgmodelnames.covered_providers AS c)
       AND NOT EXISTS (SELECT FROM public.llm_models AS l WHERE l.id = n.model_id);
    RETURN NULL;
END
$fn$;
