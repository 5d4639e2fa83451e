-- Preflight, part 1: does the app schema have the tables and columns
-- pgmodelnames works on? Changes nothing. Stops with one line (SQLSTATE
-- PMN01) naming what is missing. Run before every upgrade (and by the
-- doctor, which works before install too), so that nothing is half-applied
-- on a database that cannot take the package.
DO $preflight$
DECLARE
    app_schema   constant text := '@app_schema_literal@';
    missing      text[] := '{}';
    col          record;
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

END
$preflight$;
