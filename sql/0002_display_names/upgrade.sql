-- Revision 0002: readable names everywhere.
--   * the guard: llm_models.name is filled on INSERT/UPDATE when the app
--     leaves it missing, so the constraint below never fails an app write;
--   * the backfill of every missing name, recorded as machine names;
--   * NOT NULL + non-blank on llm_models.name, taken with short locks;
--   * the view model_display_names and the function model_display_name().
SET LOCAL lock_timeout = '5s';

-- The guard runs as its owner so app roles need no rights on the
-- pgmodelnames schema to keep writing their own registry. Optional columns
-- (model_id, served_model_name) are read through to_jsonb, so one function
-- serves every shape of llm_models; llm_models writes are rare.
CREATE OR REPLACE FUNCTION pgmodelnames.llm_models_name_guard()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    row_json    jsonb;
    better_name text;
BEGIN
    IF pgmodelnames.is_usable_name(NEW.name)
       AND pgmodelnames.trimmed(NEW.name) <> pgmodelnames.placeholder_name(NEW.id, NEW.provider) THEN
        RETURN NEW;  -- a real name: never touched
    END IF;
    row_json := to_jsonb(NEW);
    better_name := pgmodelnames.machine_name(NEW.id, NEW.provider,
                                             row_json ->> 'model_id', row_json ->> 'served_model_name');
    -- A placeholder name is replaced only by something better than itself.
    IF better_name IS NULL OR better_name = NEW.name THEN
        RETURN NEW;
    END IF;
    NEW.name := better_name;
    BEGIN
        INSERT INTO pgmodelnames.machine_names AS mn (model_uuid, name, source)
        VALUES (NEW.id, better_name, 'guard')
        ON CONFLICT (model_uuid) DO UPDATE
            SET name = EXCLUDED.name, source = EXCLUDED.source, endpoint = NULL, recorded_at = now();
    EXCEPTION WHEN OTHERS THEN
        -- Bookkeeping must never fail the app's write (e.g. a serialization
        -- failure at REPEATABLE READ); the name itself is still filled.
        RAISE WARNING 'pgmodelnames: could not record machine name for %: %', NEW.id, SQLERRM;
    END;
    RETURN NEW;
END
$$;
REVOKE EXECUTE ON FUNCTION pgmodelnames.llm_models_name_guard() FROM PUBLIC;

SELECT pgmodelnames.execute_with_lock_retries($sql$
    CREATE OR REPLACE TRIGGER pgmodelnames_name_guard
        BEFORE INSERT OR UPDATE ON @app_schema@.llm_models
        FOR EACH ROW EXECUTE FUNCTION pgmodelnames.llm_models_name_guard()
$sql$);
COMMENT ON TRIGGER pgmodelnames_name_guard ON @app_schema@.llm_models IS
    'pgmodelnames: fills a missing name (model_id, served_model_name, placeholder name) so NOT NULL never fails a write.';

-- Remember the nullability the app chose, so downgrade can give it back.
-- Recorded once. Where the bookkeeping was lost but the constraint survived
-- (a public-only restore), the constraint's comment still says what the app
-- had before pgmodelnames made the column NOT NULL.
UPDATE pgmodelnames.installation
   SET name_was_nullable = coalesce(
           (SELECT CASE WHEN d.description LIKE '%(before pgmodelnames: name nullable)%' THEN true
                        WHEN d.description LIKE '%(before pgmodelnames: name NOT NULL)%' THEN false END
              FROM pg_catalog.pg_constraint c
              JOIN pg_catalog.pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_constraint'::regclass
             WHERE c.conrelid = '@app_schema_literal@.llm_models'::regclass AND c.conname = 'llm_models_name_present'),
           NOT a.attnotnull)
  FROM pg_catalog.pg_attribute a
 WHERE a.attrelid = '@app_schema_literal@.llm_models'::regclass AND a.attname = 'name'
   AND name_was_nullable IS NULL;

-- Names that are exactly their row's placeholder name were written by the
-- package (perhaps before an uninstall): they are machine names again.
INSERT INTO pgmodelnames.machine_names (model_uuid, name, source)
SELECT l.id, l.name, 'placeholder'
  FROM @app_schema@.llm_models l
 WHERE pgmodelnames.trimmed(l.name) = pgmodelnames.placeholder_name(l.id, l.provider)
ON CONFLICT (model_uuid) DO NOTHING;

-- Backfill every missing name. Setting it to NULL lets the guard compute it,
-- so there is exactly one implementation of the rule.
UPDATE @app_schema@.llm_models
   SET name = NULL
 WHERE NOT pgmodelnames.is_usable_name(name);

-- NOT NULL without a long ACCESS EXCLUSIVE lock: add the CHECK as NOT VALID
-- (instant), validate it in a later transaction (SHARE UPDATE EXCLUSIVE, app
-- reads and writes go on), then SET NOT NULL, which PostgreSQL 12+ proves
-- from the valid CHECK without scanning the table.
-- Added only where missing: a restore may have brought it back already.
DO $add$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_constraint
                    WHERE conrelid = '@app_schema_literal@.llm_models'::regclass
                      AND conname = 'llm_models_name_present') THEN
        PERFORM pgmodelnames.execute_with_lock_retries($sql$
            ALTER TABLE @app_schema@.llm_models
                ADD CONSTRAINT llm_models_name_present CHECK (name IS NOT NULL AND btrim(name) <> '') NOT VALID
        $sql$);
    END IF;
END
$add$;
COMMIT AND CHAIN;
SET LOCAL lock_timeout = '5s';
SELECT pgmodelnames.execute_with_lock_retries($sql$
    ALTER TABLE @app_schema@.llm_models VALIDATE CONSTRAINT llm_models_name_present
$sql$);
COMMIT AND CHAIN;
SET LOCAL lock_timeout = '5s';
SELECT pgmodelnames.execute_with_lock_retries($sql$
    ALTER TABLE @app_schema@.llm_models ALTER COLUMN name SET NOT NULL
$sql$);
-- The comment carries the original nullability with the table, through any
-- dump and restore (see name_was_nullable above).
DO $comment$
BEGIN
    EXECUTE format('COMMENT ON CONSTRAINT llm_models_name_present ON @app_schema@.llm_models IS %L',
        'pgmodelnames: every model has a name; the pgmodelnames_name_guard trigger fills missing ones. '
        || CASE WHEN (SELECT name_was_nullable FROM pgmodelnames.installation)
                THEN '(before pgmodelnames: name nullable)' ELSE '(before pgmodelnames: name NOT NULL)' END);
END
$comment$;

-- The view. Built in a DO block because llm_models may lack the optional
-- columns model_id and served_model_name; the printed (--sql) script adapts
-- the same way when it runs. security_invoker = true is restated on every
-- (re)creation: without it, CREATE OR REPLACE VIEW silently makes the view
-- run as its owner and bypass row-level security for every reader.
DO $view$
DECLARE
    has_model_id boolean;
    has_served   boolean;
BEGIN
    SELECT bool_or(attname = 'model_id'), bool_or(attname = 'served_model_name')
      INTO has_model_id, has_served
      FROM pg_catalog.pg_attribute
     WHERE attrelid = '@app_schema_literal@.llm_models'::regclass AND attnum > 0 AND NOT attisdropped;

    EXECUTE format($sql$
        CREATE OR REPLACE VIEW @app_schema@.model_display_names
        WITH (security_invoker = true) AS
        SELECT l.id,
               shown.display_name,
               l.provider,
               %1$s AS model_id,
               %2$s AS served_model_name,
               shown.display_name = pgmodelnames.placeholder_name(l.id, l.provider) AS is_placeholder
          FROM @app_schema@.llm_models AS l
          -- LEFT JOIN LATERAL (always exactly one row) rather than a plain
          -- expression: the planner then computes display_name as a
          -- placeholder at the scan of llm_models, once per model, instead
          -- of once per joined message. An analytics query grouping 10M
          -- messages by display_name costs the same as grouping by
          -- llm_models.name, stays parallel, and still probes the primary key.
          LEFT JOIN LATERAL (
               SELECT CASE WHEN pgmodelnames.is_usable_name(l.name) THEN pgmodelnames.trimmed(l.name)
                           ELSE pgmodelnames.machine_name(l.id, l.provider, %1$s, %2$s)
                      END AS display_name
               ) AS shown ON true
        $sql$,
        CASE WHEN has_model_id THEN 'l.model_id::text' ELSE 'NULL::text' END,
        CASE WHEN has_served THEN 'l.served_model_name::text' ELSE 'NULL::text' END);
END
$view$;

COMMENT ON VIEW @app_schema@.model_display_names IS
    'pgmodelnames: one readable, distinct name per llm_models row. Join messages.model_id = id (or id::text for a text column). Runs with the reader''s rights (row-level security applies).';
COMMENT ON COLUMN @app_schema@.model_display_names.id IS 'llm_models.id; join messages.model_id to it.';
COMMENT ON COLUMN @app_schema@.model_display_names.display_name IS
    'Never NULL, blank or a bare UUID: the name, else model_id, else served_model_name, else "Unknown <provider> model <first 8 hex digits>".';
COMMENT ON COLUMN @app_schema@.model_display_names.provider IS 'llm_models.provider as stored.';
COMMENT ON COLUMN @app_schema@.model_display_names.model_id IS 'llm_models.model_id (NULL if the table has no such column).';
COMMENT ON COLUMN @app_schema@.model_display_names.served_model_name IS 'llm_models.served_model_name (NULL if the table has no such column).';
COMMENT ON COLUMN @app_schema@.model_display_names.is_placeholder IS
    'True while the model has no real name yet (shown by its placeholder name); run "pgmodelnames backfill" or "rename".';

-- Names for ids a reader cannot see (row-level security) or that are not
-- UUIDs at all. Caller's rights: it reveals only what the view shows them.
CREATE OR REPLACE FUNCTION @app_schema@.model_display_name(model_id uuid, provider text DEFAULT NULL)
RETURNS text LANGUAGE sql STABLE PARALLEL SAFE SECURITY INVOKER
BEGIN ATOMIC
    SELECT coalesce(
        (SELECT v.display_name FROM @app_schema@.model_display_names AS v WHERE v.id = model_display_name.model_id),
        pgmodelnames.placeholder_name(model_display_name.model_id, model_display_name.provider));
END;

CREATE OR REPLACE FUNCTION @app_schema@.model_display_name(model_id text, provider text DEFAULT NULL)
RETURNS text LANGUAGE sql STABLE PARALLEL SAFE SECURITY INVOKER
BEGIN ATOMIC
    SELECT CASE
        WHEN pgmodelnames.looks_like_uuid(pgmodelnames.trimmed(model_display_name.model_id))
            THEN @app_schema@.model_display_name(pgmodelnames.trimmed(model_display_name.model_id)::uuid,
                                                 model_display_name.provider)
        WHEN pgmodelnames.is_usable_name(model_display_name.model_id)
            THEN pgmodelnames.trimmed(model_display_name.model_id)
        WHEN model_display_name.model_id IS NOT NULL THEN 'Unknown model (blank id)'
    END;
END;

COMMENT ON FUNCTION @app_schema@.model_display_name(uuid, text) IS
    'pgmodelnames: display name of a model id, also for rows hidden by row-level security ("Unknown <provider> model <8 hex>"). Never NULL for a non-NULL id.';
COMMENT ON FUNCTION @app_schema@.model_display_name(text, text) IS
    'pgmodelnames: display name of a text model id: a UUID is resolved like the uuid overload, any other id is returned trimmed.';
