-- Preflight, part 2: can this role install pgmodelnames here, and can
-- placeholders be inserted? Runs after part 1, before any upgrade step,
-- inside the same transaction; changes nothing. Everything the install
-- needs is checked before anything is committed, so a wrong role or an
-- unfit table never leaves a half-installed package behind:
--   PMN02  another role must run the install (named in the message)
--   PMN01  the app schema cannot take placeholders
--   PMN03  trigger mode on a Citus distributed messages table, or a
--          revision newer than this pgmodelnames knows
-- @placeholder_mode@ is the mode `upgrade --placeholders` asks for ('' when
-- not given: the installed mode, else trigger).
DO $preflight$
DECLARE
    app_schema   constant text := '@app_schema_literal@';
    me           constant name := current_user;
    owners       text;
    schema_owner name;
    unfillable   text;
    requested    constant text := nullif('@placeholder_mode@', '');
    mode         text;
    distributed  boolean := false;
    installed_for text;
    unknown      text;
BEGIN
    -- An older pgmodelnames must not take a newer install back, nor one made
    -- for another app schema.
    IF to_regclass('pgmodelnames.alembic_version') IS NOT NULL THEN
        SELECT string_agg(v.version_num, ', ') INTO unknown
          FROM pgmodelnames.alembic_version AS v
         WHERE v.version_num <> ALL (string_to_array('@known_revisions@', ','));
        IF unknown IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'PMN03',
                MESSAGE = format('this database has pgmodelnames revision %s, which this pgmodelnames does not know '
                                 '(it knows %s): use the pgmodelnames that installed it, or a newer one',
                                 left(unknown, 40), replace('@known_revisions@', ',', ', '));
        END IF;
    END IF;
    IF to_regclass('pgmodelnames.installation') IS NOT NULL THEN
        EXECUTE 'SELECT app_schema FROM pgmodelnames.installation' INTO installed_for;
        IF installed_for IS DISTINCT FROM app_schema AND installed_for IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'PMN02',
                MESSAGE = format('pgmodelnames is installed for schema %L, not %L', installed_for, app_schema);
        END IF;
    END IF;

    -- ALTER TABLE and CREATE TRIGGER need the tables' owner (or a member of
    -- the owning role): an install by another role would fail half-way.
    SELECT string_agg(format('%I (owner of %s)', o.owner, o.tables), ' or ')
      INTO owners
      FROM (SELECT pg_get_userbyid(c.relowner) AS owner,
                   string_agg(format('%I.%I', app_schema, c.relname), ' and ' ORDER BY c.relname) AS tables
              FROM pg_catalog.pg_class c
             WHERE c.oid IN (format('%I.llm_models', app_schema)::regclass, format('%I.messages', app_schema)::regclass)
               AND NOT pg_catalog.pg_has_role(me, c.relowner, 'USAGE')
             GROUP BY c.relowner) AS o;
    IF owners IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'PMN02',
            MESSAGE = format('role %I cannot install pgmodelnames: connect as %s', me, owners);
    END IF;

    SELECT pg_get_userbyid(nspowner) INTO schema_owner FROM pg_catalog.pg_namespace WHERE nspname = 'pgmodelnames';
    IF schema_owner IS NOT NULL AND NOT pg_catalog.pg_has_role(me, schema_owner, 'USAGE') THEN
        RAISE EXCEPTION USING ERRCODE = 'PMN02',
            MESSAGE = format('the schema pgmodelnames belongs to role %I: connect as %I (or run "pgmodelnames uninstall" as %I first)',
                             schema_owner, schema_owner, schema_owner);
    ELSIF schema_owner IS NULL AND NOT pg_catalog.has_database_privilege(me, current_database(), 'CREATE') THEN
        RAISE EXCEPTION USING ERRCODE = 'PMN02',
            MESSAGE = format('role %I may not create the schema pgmodelnames in database %I: connect as the database owner or grant CREATE',
                             me, current_database());
    END IF;
    IF NOT pg_catalog.has_schema_privilege(me, app_schema, 'CREATE') THEN
        RAISE EXCEPTION USING ERRCODE = 'PMN02',
            MESSAGE = format('role %I may not create the view and functions in schema %I: connect as its owner or grant CREATE',
                             me, app_schema);
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

    -- A Citus distributed messages table can only take sweep mode (a row
    -- trigger there runs on the shards and cannot write llm_models): refuse
    -- anything else before a revision is committed. Read from Citus'
    -- documented catalog pg_dist_partition (see 0005's messages_is_distributed()).
    IF to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
        EXECUTE $sql$SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = $1
                        AND (p.partmethod IN ('h', 'r', 'a') OR (p.partmethod = 'n' AND p.repmodel = 's' AND p.colocationid <> 0)))$sql$
           INTO distributed USING format('%I.messages', app_schema)::regclass;
    END IF;
    IF distributed THEN
        IF to_regclass('pgmodelnames.sweep_state') IS NOT NULL THEN
            EXECUTE 'SELECT mode FROM pgmodelnames.sweep_state' INTO mode;
        END IF;
        IF coalesce(requested, mode, 'trigger') <> 'sweep' THEN
            RAISE EXCEPTION USING ERRCODE = 'PMN03',
                MESSAGE = format('%I.messages is a Citus distributed table: a row trigger there runs on the shards '
                                 'and cannot write llm_models; use sweep mode: pgmodelnames upgrade --placeholders sweep',
                                 app_schema);
        END IF;
    END IF;
END
$preflight$;
