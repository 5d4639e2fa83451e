-- Preflight: runs before any upgrade step, changes nothing.
-- Stops with one line (SQLSTATE PMN01) naming what the app schema lacks, so
-- that nothing is half-applied on a database that cannot take the package.
DO $preflight$
DECLARE
    app_schema   constant text := '@app_schema_literal@';
    missing      text[] := '{}';
    col          record;
    unfillable   text;
BEGIN
    IF to_regnamespace(quote_ident(app_schema)) IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'PMN01',
            MESSAGE = format('schema %I does not exist (set --schema or PGMODELNAMES_SCHEMA)', app_schema);
    END IF;

    -- The columns every part of the package relies on, with the types it accepts.
    FOR col IN
        SELECT r.tbl, r.col, r.types, a.atttypid::regtype::text AS found
        FROM (VALUES
            ('llm_models', 'id',       '{uuid}'::text[]),
            ('llm_models', 'name',     '{text,"character varying"}'),
            ('llm_models', 'provider', '{text,"character varying"}'),
            ('messages',   'model_id', '{uuid,text,"character varying"}'),
            ('messages',   'provider', '{text,"character varying"}')
        ) AS r(tbl, col, types)
        LEFT JOIN pg_catalog.pg_attribute a
               ON a.attrelid = to_regclass(format('%I.%I', app_schema, r.tbl))
              AND a.attname = r.col AND a.attnum > 0 AND NOT a.attisdropped
    LOOP
        IF to_regclass(format('%I.%I', app_schema, col.tbl)) IS NULL THEN
            missing := missing || format('table %I.%I', app_schema, col.tbl);
        ELSIF col.found IS NULL THEN
            missing := missing || format('column %I.%I', col.tbl, col.col);
        ELSIF NOT col.found = ANY (col.types) THEN
            missing := missing || format('column %I.%I of type %s (has %s)',
                                         col.tbl, col.col, array_to_string(col.types, ' or '), col.found);
        END IF;
    END LOOP;
    SELECT array_agg(DISTINCT m) INTO missing FROM unnest(missing) AS m;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'PMN01',
            MESSAGE = 'missing ' || array_to_string(missing, ', ');
    END IF;

    -- Placeholders are inserted with ON CONFLICT (id): id must be unique.
    IF NOT EXISTS (
        SELECT FROM pg_catalog.pg_index i
        JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
        WHERE i.indrelid = format('%I.llm_models', app_schema)::regclass
          AND i.indisunique AND i.indnkeyatts = 1 AND i.indpred IS NULL AND a.attname = 'id'
    ) THEN
        RAISE EXCEPTION USING ERRCODE = 'PMN01',
            MESSAGE = format('%I.llm_models.id has no primary key or unique index', app_schema);
    END IF;

    -- A placeholder can fill text columns with '' and a boolean enabled with
    -- false; any other NOT NULL column without a default would make every
    -- placeholder insert fail, so refuse the install and name it.
    SELECT string_agg(format('%I (%s)', a.attname, format_type(a.atttypid, a.atttypmod)), ', ')
      INTO unfillable
      FROM pg_catalog.pg_attribute a
      LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE a.attrelid = format('%I.llm_models', app_schema)::regclass
       AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull
       AND d.adbin IS NULL AND a.attidentity = '' AND a.attgenerated = ''
       AND a.attname NOT IN ('id', 'name', 'provider', 'user_id')
       AND NOT (a.attname = 'enabled' AND a.atttypid = 'boolean'::regtype)
       AND a.atttypid NOT IN ('text'::regtype, 'character varying'::regtype);
    IF unfillable IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'PMN01',
            MESSAGE = format('%I.llm_models has NOT NULL columns without a default that a placeholder cannot fill: %s',
                             app_schema, unfillable);
    END IF;
END
$preflight$;
