-- pmn's TEXT pass with looks_like_uuid() replaced by the inlined uuid_shape_test() form (PostgreSQL 15)
CREATE OR REPLACE FUNCTION pgmodelnames.messages_placeholders_text_statement()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    ids       uuid[];
    keys      text[];
    providers text[];
    user_ids  text[];
BEGIN
    BEGIN
        WITH named AS MATERIALIZED (
            SELECT n.model_id AS key, lower(btrim(n.provider)) AS provider
              FROM new_messages AS n
             WHERE n.model_id IS NOT NULL
               AND lower(btrim(n.provider)) IN (SELECT c.provider FROM pgmodelnames.covered_providers AS c)
             GROUP BY 1, 2),
        parsed AS MATERIALIZED (
            SELECT CASE WHEN (CASE WHEN named.key LIKE '________-____-____-____-____________' THEN octet_length(replace(named.key, '-', '')) = 32 AND named.key ~* '^[-0-9a-f]+$' WHEN octet_length(named.key) = 32 THEN named.key ~* '^[0-9a-f]+$' ELSE octet_length(named.key) BETWEEN 33 AND 35 AND named.key ~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$' END) THEN named.key::uuid END AS id,
                   named.key, named.provider
              FROM named)
        SELECT array_agg(u.id ORDER BY u.id), array_agg(u.key ORDER BY u.id), array_agg(u.provider ORDER BY u.id)
          INTO ids, keys, providers
          FROM (SELECT DISTINCT ON (parsed.id) parsed.id, parsed.key, parsed.provider
                  FROM parsed WHERE parsed.id IS NOT NULL
                 ORDER BY parsed.id, parsed.provider, parsed.key) AS u
         WHERE NOT EXISTS (SELECT FROM public.llm_models AS l WHERE l.id = u.id);
        IF ids IS NULL THEN
            RETURN NULL;
        END IF;
        SELECT array_agg(owner.user_id ORDER BY owner.id) INTO user_ids
          FROM (SELECT k.id, min(to_jsonb(n) ->> 'user_id') AS user_id
                  FROM unnest(ids, keys) AS k(id, key)
                  LEFT JOIN new_messages AS n ON n.model_id = k.key
                 GROUP BY k.id) AS owner;
        PERFORM pgmodelnames.create_placeholders(ids, providers, user_ids);
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'pgmodelnames: no placeholders for % new model(s) (first: %): % (the messages were stored)',
            coalesce(cardinality(ids), 0), ids[1], SQLERRM;
    END;
    RETURN NULL;
END
$fn$;
