-- Revision 0004: what Supabase's database advisor and real deployments asked for.
--   * every function pgmodelnames installs has a pinned search_path (the
--     advisor's function_search_path_mutable lint); hot paths that relied on
--     the planner inlining looks_like_uuid() (the trigger's WHEN clause on a
--     TEXT model_id, the history scan) now inline the test's SQL themselves,
--     since a function with a SET clause is never inlined;
--   * a session that loses the race to create a placeholder says nothing
--     (the placeholder exists: a concurrent session committed it);
--   * trimmed() no longer strips the letter v from names;
--   * the bookkeeping tables state their deny-all access as policies (the
--     advisor's rls_enabled_no_policy lint), which changes no access: app
--     roles had no grants and no policy, and still have neither a grant nor
--     a policy that admits a row.
-- Idempotent, like every revision.
SET LOCAL lock_timeout = '5s';

-- trimmed() as 0001 first defined it stripped the letter v from both ends of
-- a name ("llama-v" showed as "llama-"): PostgreSQL has no \v escape, so
-- E'\v' is a plain v. The vertical tab is \x0b.
CREATE OR REPLACE FUNCTION pgmodelnames.trimmed(value text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN btrim(value, E' \t\r\n\x0b\f\u00a0\u200b\u3000\ufeff');

-- The UUID-shape test of looks_like_uuid() as SQL text around an expression,
-- for statements built at run time. Same rule, spelled once more here
-- because hot paths must not call a function (tests/test_naming_rules.py
-- holds the two together).
CREATE OR REPLACE FUNCTION pgmodelnames.uuid_shape_test(value_sql text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN format('(length(%1$s) BETWEEN 32 AND 36 AND %1$s ~* %2$L)', value_sql,
              '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$');

-- A lost race is success. At REPEATABLE READ and SERIALIZABLE, ON CONFLICT
-- DO NOTHING raises serialization_failure exactly when a concurrent
-- transaction has committed the same id since this one's snapshot: the
-- placeholder exists. Anything else means it is really missing: WARNING.
CREATE OR REPLACE FUNCTION pgmodelnames.messages_placeholder_uuid()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM FROM @app_schema@.llm_models WHERE id = NEW.model_id;
    IF FOUND THEN
        RETURN NEW;
    END IF;
    BEGIN
        PERFORM pgmodelnames.create_placeholder(NEW.model_id, NEW.provider, to_jsonb(NEW) ->> 'user_id');
    EXCEPTION
        WHEN serialization_failure THEN
            NULL;  -- created meanwhile by a concurrent session
        WHEN OTHERS THEN
            RAISE WARNING 'pgmodelnames: no placeholder for model %: % (the message was stored)', NEW.model_id, SQLERRM;
    END;
    RETURN NEW;
END
$$;

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
    EXCEPTION
        WHEN serialization_failure THEN
            NULL;  -- created meanwhile by a concurrent session
        WHEN OTHERS THEN
            RAISE WARNING 'pgmodelnames: no placeholder for model %: % (the message was stored)', model_uuid, SQLERRM;
    END;
    RETURN NEW;
END
$$;

-- (Re)create the trigger on messages with the covered providers in its WHEN
-- clause. Named zz_... because BEFORE triggers fire in name order: it must
-- see the model_id and provider the app's own triggers leave behind. For a
-- TEXT model_id the UUID-shape test is inlined, so plain ids such as
-- gpt-4o-mini never call the function.
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
        condition := condition || ' AND ' || pgmodelnames.uuid_shape_test('NEW.model_id');
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

-- Placeholders for the messages already stored: one set-based statement that
-- reads messages (ACCESS SHARE, which blocks no insert) and locks only the
-- llm_models rows it creates. Idempotent. Per message row it evaluates only
-- inlined expressions; the provider is normalised once per group.
CREATE OR REPLACE FUNCTION pgmodelnames.create_missing_placeholders()
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    messages_table constant regclass := '@app_schema_literal@.messages'::regclass;
    is_uuid        boolean;
    has_user_id    boolean;
    created        bigint;
BEGIN
    SELECT bool_or(attname = 'model_id' AND atttypid = 'uuid'::regtype), bool_or(attname = 'user_id')
      INTO is_uuid, has_user_id
      FROM pg_catalog.pg_attribute WHERE attrelid = messages_table AND attnum > 0 AND NOT attisdropped;

    EXECUTE pgmodelnames.placeholder_insert_sql(format($sql$
        SELECT o.id, pgmodelnames.normalized_provider(o.provider) AS provider, o.user_id
          FROM (SELECT %1$s AS id,
                       min(lower(btrim(m.provider))) AS provider,
                       min(%2$s) AS user_id
                  FROM %3$s AS m
                 WHERE m.model_id IS NOT NULL
                   AND lower(btrim(m.provider)) IN (SELECT provider FROM pgmodelnames.covered_providers)
                   %4$s
                 GROUP BY 1) AS o
         WHERE NOT EXISTS (SELECT FROM @app_schema@.llm_models AS l WHERE l.id = o.id)
        $sql$,
        CASE WHEN is_uuid THEN 'm.model_id' ELSE 'm.model_id::uuid' END,
        CASE WHEN has_user_id THEN 'm.user_id::text' ELSE 'NULL::text' END,
        messages_table,
        CASE WHEN is_uuid THEN '' ELSE 'AND ' || pgmodelnames.uuid_shape_test('m.model_id') END));
    GET DIAGNOSTICS created = ROW_COUNT;
    RETURN created;
END
$$;

REVOKE EXECUTE ON FUNCTION pgmodelnames.uuid_shape_test(text) FROM PUBLIC;

-- Pin the search_path of every function pgmodelnames installs that does not
-- have one yet (the SQL-standard naming rules and model_display_name()).
-- Their bodies are parsed at creation, so the pin changes no name they use;
-- it is what the advisor checks, and it keeps them out of reach of any
-- caller's search_path in the future.
DO $pin$
DECLARE
    fn regprocedure;
BEGIN
    FOR fn IN
        SELECT p.oid::regprocedure
          FROM pg_catalog.pg_proc p
         WHERE (p.pronamespace = 'pgmodelnames'::regnamespace
                OR p.oid IN (to_regprocedure('@app_schema_literal@.model_display_name(uuid, text)'),
                             to_regprocedure('@app_schema_literal@.model_display_name(text, text)')))
           AND NOT EXISTS (SELECT FROM unnest(coalesce(p.proconfig, '{}')) AS c WHERE c LIKE 'search_path=%')
    LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, pg_temp', fn);
    END LOOP;
END
$pin$;

-- Deny-all, stated: no role but the owner (who bypasses row-level security)
-- reads or writes the bookkeeping. CREATE POLICY locks the table it is on,
-- and the app's inserts write machine_names through the trigger and the
-- guard: take each lock with the short retrying attempts, and commit before
-- the trigger is re-created below, so this step never holds a lock an app
-- insert waits for while it waits for that insert itself.
DO $policies$
DECLARE
    bookkeeping text;
BEGIN
    FOREACH bookkeeping IN ARRAY ARRAY['installation', 'covered_providers', 'machine_names'] LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_policy
                        WHERE polrelid = format('pgmodelnames.%I', bookkeeping)::regclass
                          AND polname = 'pgmodelnames_owner_only') THEN
            PERFORM pgmodelnames.execute_with_lock_retries(format(
                'CREATE POLICY pgmodelnames_owner_only ON pgmodelnames.%I AS RESTRICTIVE '
                'FOR ALL TO PUBLIC USING (false) WITH CHECK (false)', bookkeeping));
        END IF;
    END LOOP;
END
$policies$;
COMMIT AND CHAIN;
SET LOCAL lock_timeout = '5s';

-- Re-create the trigger with the inlined WHEN clause.
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
