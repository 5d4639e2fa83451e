-- Revision 0003: a placeholder llm_models row for every vLLM model UUID that
-- messages name and llm_models does not know, for new messages (trigger) and
-- for the history (one set-based pass, after the trigger is committed).
--
-- The trigger sits on the app's hottest insert path. Its design, measured in
-- bench/ (see BENCHMARKS.md):
--   * a WHEN clause lists the covered providers, so other rows never call it;
--   * one primary-key probe; a known model returns at once;
--   * the rare miss inserts the placeholder inside an EXCEPTION block, the
--     only subtransaction, entered only then: it is what lets concurrent
--     inserts of one new UUID all succeed at REPEATABLE READ and SERIALIZABLE
--     (where ON CONFLICT DO NOTHING itself raises a serialization failure),
--     and it turns any other failure into a WARNING: no message insert ever
--     fails because of pgmodelnames;
--   * SECURITY DEFINER, so app roles without rights on llm_models (or an RLS
--     policy that would refuse the row) still get their placeholder; every
--     name is schema-qualified and search_path is pinned against hijacking.
SET LOCAL lock_timeout = '5s';

-- The INSERT that creates placeholders from a source query with columns
-- (id uuid, provider text, user_id text). Built from the catalog when called
-- (only on the rare miss and once per history pass), so it fits whatever
-- optional columns llm_models has today: user_id gets the message's user,
-- enabled gets false, NOT NULL text columns without a default get ''
-- (an empty base_url means "no endpoint known").
CREATE OR REPLACE FUNCTION pgmodelnames.placeholder_insert_sql(source_query text)
RETURNS text LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target  constant regclass := '@app_schema_literal@.llm_models'::regclass;
    columns text := 'id, name, provider';
    vals    text := 'src.id, pgmodelnames.placeholder_name(src.id, src.provider), src.provider';
    col     record;
BEGIN
    FOR col IN
        SELECT a.attname, a.atttypid, format_type(a.atttypid, a.atttypmod) AS type_name,
               a.attnotnull AND d.adbin IS NULL AND a.attidentity = '' AND a.attgenerated = '' AS needs_value
          FROM pg_catalog.pg_attribute a
          LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE a.attrelid = target AND a.attnum > 0 AND NOT a.attisdropped
           AND a.attname NOT IN ('id', 'name', 'provider')
         ORDER BY a.attnum
    LOOP
        IF col.attname = 'user_id' THEN
            columns := columns || ', user_id';
            vals := vals || format(', src.user_id::%s', col.type_name);
        ELSIF col.attname = 'enabled' AND col.atttypid = 'boolean'::regtype THEN
            columns := columns || ', enabled';
            vals := vals || ', false';
        ELSIF col.needs_value THEN
            columns := columns || format(', %I', col.attname);
            vals := vals || format(', %L::%s', '', col.type_name);
        END IF;
    END LOOP;
    RETURN format($sql$
        WITH created AS (
            INSERT INTO %s AS l (%s)
            SELECT %s FROM (%s) AS src
            ON CONFLICT (id) DO NOTHING
            RETURNING l.id, l.name)
        INSERT INTO pgmodelnames.machine_names AS mn (model_uuid, name, source)
        SELECT id, name, 'placeholder' FROM created
        ON CONFLICT (model_uuid) DO UPDATE
            SET name = EXCLUDED.name, source = EXCLUDED.source, endpoint = NULL, recorded_at = now()
        $sql$, target, columns, vals, source_query);
END
$$;

-- The rare path: one placeholder for one message. Raises on failure; the
-- trigger decides what a failure means.
CREATE OR REPLACE FUNCTION pgmodelnames.create_placeholder(model_uuid uuid, provider text, user_id text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    -- Sessions creating the same placeholder take turns, so that a later one
    -- meets the committed row in ON CONFLICT's pre-check instead of racing a
    -- speculative insert: at SERIALIZABLE that race leaves read/write
    -- dependencies in both directions and fails the app's commit.
    PERFORM pg_advisory_xact_lock(1885957486, hashtext(model_uuid::text));
    EXECUTE pgmodelnames.placeholder_insert_sql('SELECT $1 AS id, $2 AS provider, $3 AS user_id')
      USING model_uuid, pgmodelnames.normalized_provider(provider), user_id;
END
$$;

-- uuid model_id. The WHEN clause (see install_placeholder_trigger) has
-- already checked model_id IS NOT NULL and the provider.
CREATE OR REPLACE FUNCTION pgmodelnames.messages_placeholder_uuid()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM FROM @app_schema@.llm_models WHERE id = NEW.model_id;
    IF FOUND THEN
        RETURN NEW;
    END IF;
    BEGIN
        PERFORM pgmodelnames.create_placeholder(NEW.model_id, NEW.provider, to_jsonb(NEW) ->> 'user_id');
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'pgmodelnames: no placeholder for model %: % (the message was stored)', NEW.model_id, SQLERRM;
    END;
    RETURN NEW;
END
$$;

-- text model_id. The WHEN clause has also checked that it looks like a UUID,
-- so the cast cannot fail; plain ids such as gpt-4o-mini never get here.
CREATE OR REPLACE FUNCTION pgmodelnames.messages_placeholder_text()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    model_uuid constant uuid := NEW.model_id::uuid;
BEGIN
    PERFORM FROM @app_schema@.llm_models WHERE id = model_uuid;
    IF FOUND THEN
        RETURN NEW;
    END IF;
    BEGIN
        PERFORM pgmodelnames.create_placeholder(model_uuid, NEW.provider, to_jsonb(NEW) ->> 'user_id');
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'pgmodelnames: no placeholder for model %: % (the message was stored)', model_uuid, SQLERRM;
    END;
    RETURN NEW;
END
$$;

-- (Re)create the trigger on messages with the covered providers in its WHEN
-- clause. Named zz_... because BEFORE triggers fire in name order: it must
-- see the model_id and provider the app's own triggers leave behind.
CREATE OR REPLACE FUNCTION pgmodelnames.install_placeholder_trigger()
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    messages_table constant regclass := '@app_schema_literal@.messages'::regclass;
    model_id_type  regtype;
    providers      text;
    condition      text;
BEGIN
    SELECT atttypid::regtype INTO model_id_type
      FROM pg_catalog.pg_attribute WHERE attrelid = messages_table AND attname = 'model_id';
    SELECT string_agg(quote_literal(provider), ', ' ORDER BY provider) INTO providers
      FROM pgmodelnames.covered_providers;

    condition := format('NEW.model_id IS NOT NULL AND lower(btrim(NEW.provider)) IN (%s)',
                        coalesce(providers, 'NULL'));
    IF model_id_type <> 'uuid'::regtype THEN
        condition := condition || ' AND pgmodelnames.looks_like_uuid(NEW.model_id)';
    END IF;

    PERFORM pgmodelnames.execute_with_lock_retries(format(
        'CREATE OR REPLACE TRIGGER zz_pgmodelnames_placeholder
             BEFORE INSERT OR UPDATE OF model_id, provider ON %s
             FOR EACH ROW WHEN (%s)
             EXECUTE FUNCTION pgmodelnames.%I()',
        messages_table, condition,
        CASE WHEN model_id_type = 'uuid'::regtype THEN 'messages_placeholder_uuid' ELSE 'messages_placeholder_text' END));
    EXECUTE format('COMMENT ON TRIGGER zz_pgmodelnames_placeholder ON %s IS %L', messages_table,
        'pgmodelnames: creates a placeholder llm_models row for an unknown model UUID of a covered provider ('
        || coalesce(providers, 'none') || ').');
END
$$;

-- Placeholders for the messages already stored. One set-based statement:
-- it reads messages (ACCESS SHARE, which blocks no insert) and locks only
-- the llm_models rows it creates. Idempotent: a second pass creates nothing.
-- Returns how many placeholders it created.
CREATE OR REPLACE FUNCTION pgmodelnames.create_missing_placeholders()
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    messages_table constant regclass := '@app_schema_literal@.messages'::regclass;
    is_uuid        boolean;
    has_user_id    boolean;
    model_uuid     text;
    created        bigint;
BEGIN
    SELECT bool_or(attname = 'model_id' AND atttypid = 'uuid'::regtype), bool_or(attname = 'user_id')
      INTO is_uuid, has_user_id
      FROM pg_catalog.pg_attribute WHERE attrelid = messages_table AND attnum > 0 AND NOT attisdropped;
    model_uuid := CASE WHEN is_uuid THEN 'm.model_id' ELSE 'm.model_id::uuid' END;

    EXECUTE pgmodelnames.placeholder_insert_sql(format($sql$
        SELECT o.id, o.provider, o.user_id
          FROM (SELECT %1$s AS id,
                       min(pgmodelnames.normalized_provider(m.provider)) AS provider,
                       min(%2$s) AS user_id
                  FROM %3$s AS m
                 WHERE m.model_id IS NOT NULL
                   AND lower(btrim(m.provider)) IN (SELECT provider FROM pgmodelnames.covered_providers)
                   %4$s
                 GROUP BY 1) AS o
         WHERE NOT EXISTS (SELECT FROM @app_schema@.llm_models AS l WHERE l.id = o.id)
        $sql$,
        model_uuid,
        CASE WHEN has_user_id THEN 'm.user_id::text' ELSE 'NULL::text' END,
        messages_table,
        CASE WHEN is_uuid THEN '' ELSE 'AND pgmodelnames.looks_like_uuid(m.model_id)' END));
    GET DIAGNOSTICS created = ROW_COUNT;
    RETURN created;
END
$$;

-- Change the covered providers: the table, the trigger's WHEN clause, and
-- placeholders for the history of newly covered providers.
CREATE OR REPLACE FUNCTION pgmodelnames.set_covered_providers(providers text[])
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM pgmodelnames.covered_providers;
    INSERT INTO pgmodelnames.covered_providers
    SELECT DISTINCT pgmodelnames.normalized_provider(p) FROM unnest(providers) AS p
     WHERE pgmodelnames.normalized_provider(p) IS NOT NULL;
    PERFORM pgmodelnames.install_placeholder_trigger();
    RETURN pgmodelnames.create_missing_placeholders();
END
$$;

REVOKE EXECUTE ON FUNCTION
    pgmodelnames.placeholder_insert_sql(text),
    pgmodelnames.create_placeholder(uuid, text, text),
    pgmodelnames.messages_placeholder_uuid(),
    pgmodelnames.messages_placeholder_text(),
    pgmodelnames.install_placeholder_trigger(),
    pgmodelnames.create_missing_placeholders(),
    pgmodelnames.set_covered_providers(text[])
FROM PUBLIC;

-- Not on a Citus distributed messages table (its catalog pg_dist_partition
-- says so): a row trigger there would run on the shards, where it cannot
-- write llm_models. Such a table gets sweep mode in revision 0005 instead
-- (the upgrade's preflight refuses to install it any other way).
DO $trigger$
DECLARE
    distributed boolean := false;
BEGIN
    IF to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
        EXECUTE $sql$SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = $1
                        AND (p.partmethod IN ('h', 'r', 'a') OR (p.partmethod = 'n' AND p.repmodel = 's' AND p.colocationid <> 0)))$sql$
           INTO distributed USING '@app_schema_literal@.messages'::regclass;
    END IF;
    IF NOT distributed THEN
        PERFORM pgmodelnames.install_placeholder_trigger();
    END IF;
END
$trigger$;

-- Commit the trigger (its brief lock on messages goes with it) before the
-- history pass, so new messages are covered while the history is read.
COMMIT AND CHAIN;
SET LOCAL lock_timeout = '5s';
SELECT pgmodelnames.create_missing_placeholders();
