-- the statement function, its exception block only around the rare path
CREATE OR REPLACE FUNCTION pgmodelnames.messages_placeholders_uuid_statement()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    ids       uuid[];
    providers text[];
    user_ids  text[];
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
        IF ids IS NULL THEN
            RETURN NULL;
        END IF;
    BEGIN
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
