-- pmn's uuid pass, grouping by the raw (model_id, provider) first and normalising the provider of the few groups
CREATE OR REPLACE FUNCTION pgmodelnames.messages_placeholders_uuid_statement()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    ids       uuid[];
    providers text[];
    user_ids  text[];
BEGIN
    BEGIN
        WITH named AS MATERIALIZED (
            SELECT g.id, lower(btrim(g.provider)) AS provider
              FROM (SELECT n.model_id AS id, n.provider FROM new_messages AS n
                     WHERE n.model_id IS NOT NULL GROUP BY 1, 2) AS g
             WHERE lower(btrim(g.provider)) IN (SELECT c.provider FROM pgmodelnames.covered_providers AS c))
        SELECT array_agg(u.id ORDER BY u.id), array_agg(u.provider ORDER BY u.id)
          INTO ids, providers
          FROM (SELECT DISTINCT ON (named.id) named.id, named.provider
                  FROM named ORDER BY named.id, named.provider) AS u
         WHERE NOT EXISTS (SELECT FROM public.llm_models AS l WHERE l.id = u.id);
        IF ids IS NULL THEN
            RETURN NULL;
        END IF;
        SELECT array_agg(owner.user_id ORDER BY owner.id) INTO user_ids
          FROM (SELECT k.id, min(to_jsonb(n) ->> 'user_id') AS user_id
                  FROM unnest(ids) AS k(id)
                  LEFT JOIN new_messages AS n ON n.model_id = k.id
                 GROUP BY k.id) AS owner;
        PERFORM pgmodelnames.create_placeholders(ids, providers, user_ids);
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'pgmodelnames: no placeholders for % new model(s) (first: %): % (the messages were stored)',
            coalesce(cardinality(ids), 0), ids[1], SQLERRM;
    END;
    RETURN NULL;
END
$fn$;
