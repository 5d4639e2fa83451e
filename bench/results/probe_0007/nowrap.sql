-- the statement function's query, no SET, no SECURITY DEFINER, no exception block
CREATE OR REPLACE FUNCTION pgmodelnames.messages_placeholders_uuid_statement()
RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    ids       uuid[];
    providers text[];
BEGIN
        WITH named AS MATERIALIZED (
            SELECT n.model_id AS id, lower(btrim(n.provider)) AS provider
              FROM new_messages AS n
             WHERE n.model_id IS NOT NULL
               AND lower(btrim(n.provider)) IN (SELECT c.provider FROM pgmodelnames.covered_providers AS c)
             GROUP BY 1, 2)
        SELECT array_agg(u.id ORDER BY u.id), array_agg(u.provider ORDER BY u.id)
          INTO ids, providers
          FROM (SELECT DISTINCT ON (named.id) named.id, named.provider
                  FROM named ORDER BY named.id, named.provider) AS u
         WHERE NOT EXISTS (SELECT FROM public.llm_models AS l WHERE l.id = u.id);
    RETURN NULL;
END
$fn$;
