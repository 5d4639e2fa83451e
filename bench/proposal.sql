-- Proposed hot-path trigger functions (benchmark variant "prop"; applied to
-- bench databases only, sql/ is unchanged). Same behaviour and guarantees as
-- sql/0003_placeholders, without the per-call `SET search_path`:
--   * still SECURITY DEFINER (RLS / missing INSERT rights on llm_models);
--   * hijack-proof without a pinned search_path: every relation, function,
--     operator and type is schema-qualified (OPERATOR(pg_catalog.=),
--     pg_catalog.uuid, pg_catalog.to_jsonb, ...), so nothing in the body is
--     looked up through the caller's search_path. pg_temp is never searched
--     for functions or operators, and relations are all qualified;
--   * the rare miss still goes through pgmodelnames.create_placeholder(),
--     which keeps its own SET search_path (paid only on a miss) and the
--     EXCEPTION block around it.
-- @app_schema@ is replaced by bench/run.py with the app schema (public).

CREATE OR REPLACE FUNCTION pgmodelnames.messages_placeholder_uuid()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    PERFORM FROM @app_schema@.llm_models WHERE id OPERATOR(pg_catalog.=) NEW.model_id;
    IF FOUND THEN
        RETURN NEW;
    END IF;
    BEGIN
        PERFORM pgmodelnames.create_placeholder(NEW.model_id, NEW.provider,
                                                pg_catalog.to_jsonb(NEW) OPERATOR(pg_catalog.->>) 'user_id');
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'pgmodelnames: no placeholder for model %: % (the message was stored)', NEW.model_id, SQLERRM;
    END;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION pgmodelnames.messages_placeholder_text()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    model_uuid constant pg_catalog.uuid := NEW.model_id::pg_catalog.uuid;
BEGIN
    PERFORM FROM @app_schema@.llm_models WHERE id OPERATOR(pg_catalog.=) model_uuid;
    IF FOUND THEN
        RETURN NEW;
    END IF;
    BEGIN
        PERFORM pgmodelnames.create_placeholder(model_uuid, NEW.provider,
                                                pg_catalog.to_jsonb(NEW) OPERATOR(pg_catalog.->>) 'user_id');
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'pgmodelnames: no placeholder for model %: % (the message was stored)', model_uuid, SQLERRM;
    END;
    RETURN NEW;
END
$$;
