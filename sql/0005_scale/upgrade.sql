-- Revision 0005: at scale.
--   * sweep mode: placeholders without a trigger on messages, from a
--     set-based, idempotent, incremental sweep (pgmodelnames.sweep()), run by
--     `pgmodelnames sweep`, by every backfill pass, or by pg_cron inside the
--     database (pgmodelnames.schedule_sweep()). For Citus (a distributed
--     messages table, where a row trigger cannot write llm_models), bulk
--     loads (no per-row cost) and logical replication subscribers (which fire
--     no ordinary trigger on replicated rows). The mode is chosen with
--     pgmodelnames.set_placeholder_mode() ("upgrade --placeholders MODE");
--     trigger stays the default, except on a distributed messages table;
--   * a cheaper exact UUID-shape test for a TEXT model_id (uuid_shape_test()).
-- Idempotent, like every revision.
SET LOCAL lock_timeout = '5s';

-- Is messages a Citus distributed table? Read from Citus' documented
-- catalog pg_dist_partition (coordinator metadata): partmethod 'h' (hash),
-- 'r' (range), 'a' (append) are distributed tables; 'n' is a reference table
-- or a Citus local table, except a single-shard distributed table (Citus 12,
-- schema-based sharding), which is 'n' with statement replication 's' and a
-- colocation group. Without Citus the catalog does not exist: false. Written
-- against Citus' documentation; untested on a real Citus cluster.
CREATE OR REPLACE FUNCTION pgmodelnames.messages_is_distributed()
RETURNS boolean LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    distributed boolean := false;
BEGIN
    IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE $sql$
        SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition p
                        WHERE p.logicalrelid = $1
                          AND (p.partmethod IN ('h', 'r', 'a')
                               OR (p.partmethod = 'n' AND p.repmodel = 's' AND p.colocationid <> 0)))
        $sql$ INTO distributed USING '@app_schema_literal@.messages'::regclass;
    RETURN distributed;
END
$$;

-- The UUID-shape test of looks_like_uuid(), as SQL text around an
-- expression, for the trigger's WHEN clause and the history and sweep scans.
-- Exactly the same rule (tests/test_uuid_shape.py compares them), in an
-- order that costs a canonical 36-character UUID about an eighth of the
-- regular expression (measured: BENCHMARKS.md):
--   * 36 characters with hyphens at the four canonical places (LIKE, no
--     regex): the other 32 must be hex digits. PostgreSQL 16+ asks the uuid
--     input function (pg_input_is_valid, no error raised: it accepts exactly
--     these strings, since braces or other hyphen places need other
--     lengths); older servers check that exactly four hyphens remain
--     removable and that only hex digits and hyphens are left, with a
--     regular expression so simple it runs in a fraction of the full one;
--   * 32 characters: 32 hex digits, the same way;
--   * 33 to 35 characters (some canonical hyphens left out, rare): the full
--     regular expression.
-- Chosen by the server version when the statement is built (at install, so
-- a printed --sql script adapts when it runs). Plain ids such as
-- gpt-4o-mini fail the LIKE and the length tests and never reach a regex.
CREATE OR REPLACE FUNCTION pgmodelnames.uuid_shape_test(value_sql text)
RETURNS text LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN format(
    '(CASE WHEN %1$s LIKE %2$L THEN %3$s WHEN octet_length(%1$s) = 32 THEN %4$s '
    'ELSE octet_length(%1$s) BETWEEN 33 AND 35 AND %1$s ~* %5$L END)',
    value_sql,
    '________-____-____-____-____________',
    CASE WHEN current_setting('server_version_num')::integer >= 160000
         THEN format('pg_input_is_valid(%s, %L)', value_sql, 'uuid')
         ELSE format('octet_length(replace(%1$s, %2$L, %3$L)) = 32 AND %1$s ~* %4$L', value_sql, '-', '', '^[-0-9a-f]+$')
    END,
    CASE WHEN current_setting('server_version_num')::integer >= 160000
         THEN format('pg_input_is_valid(%s, %L)', value_sql, 'uuid')
         ELSE format('%s ~* %L', value_sql, '^[0-9a-f]+$')
    END,
    '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$');

-- The placeholder mode and the sweep's progress. One row.
--   mode           trigger: the row trigger on messages creates placeholders;
--                  sweep: no trigger, pgmodelnames.sweep() does
--   prefer         auto: the sweep picks how it reads messages (sweep_method());
--                  index / full: always that way (set_sweep_method())
--   mark_time / mark_number
--                  the high-water mark on messages.<mark_column> (a
--                  timestamptz or an integer column): every committed
--                  covered message below it has its placeholder. NULL: the
--                  next sweep reads all of messages.
CREATE TABLE IF NOT EXISTS pgmodelnames.sweep_state (
    singleton          boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    mode               text NOT NULL DEFAULT 'trigger' CHECK (mode IN ('trigger', 'sweep')),
    mode_changed_at    timestamptz NOT NULL DEFAULT now(),
    prefer             text NOT NULL DEFAULT 'auto' CHECK (prefer IN ('auto', 'index', 'full')),
    method             text CHECK (method IN ('column', 'index', 'full')),
    mark_column        name,
    mark_time          timestamptz,
    mark_number        bigint,
    held_back_since    timestamptz,
    held_back_pids     integer[],
    last_sweep_at      timestamptz,
    last_sweep_seconds double precision,
    last_sweep_created bigint,
    last_full_sweep_at timestamptz,
    sweeps             bigint NOT NULL DEFAULT 0,
    created_total      bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE pgmodelnames.sweep_state IS
    'pgmodelnames: placeholder mode (trigger or sweep) and the sweep''s high-water mark on messages.';
-- A distributed messages table (Citus) can only run in sweep mode.
INSERT INTO pgmodelnames.sweep_state (mode)
VALUES (CASE WHEN pgmodelnames.messages_is_distributed() THEN 'sweep' ELSE 'trigger' END)
ON CONFLICT (singleton) DO NOTHING;
ALTER TABLE pgmodelnames.sweep_state ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON pgmodelnames.sweep_state FROM PUBLIC;
DO $policy$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_policy
                    WHERE polrelid = 'pgmodelnames.sweep_state'::regclass AND polname = 'pgmodelnames_owner_only') THEN
        CREATE POLICY pgmodelnames_owner_only ON pgmodelnames.sweep_state AS RESTRICTIVE
            FOR ALL TO PUBLIC USING (false) WITH CHECK (false);
    END IF;
END
$policy$;

-- The one line that refuses trigger mode on a distributed messages table.
CREATE OR REPLACE FUNCTION pgmodelnames.refuse_trigger_on_distributed()
RETURNS void LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF pgmodelnames.messages_is_distributed() THEN
        RAISE EXCEPTION USING ERRCODE = 'PMN03',
            MESSAGE = '@app_schema_literal@.messages is a Citus distributed table: a row trigger there runs on the '
                      'shards and cannot write llm_models; use sweep mode: pgmodelnames upgrade --placeholders sweep';
    END IF;
END
$$;

-- (Re)create the trigger on messages (trigger mode), or make sure there is
-- none (sweep mode). As in 0004, with the UUID-shape test above.
CREATE OR REPLACE FUNCTION pgmodelnames.install_placeholder_trigger()
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    messages_table constant regclass := '@app_schema_literal@.messages'::regclass;
    model_id_type  regtype;
    providers      text;
    condition      text;
BEGIN
    IF (SELECT mode FROM pgmodelnames.sweep_state) = 'sweep' THEN
        IF EXISTS (SELECT FROM pg_catalog.pg_trigger
                    WHERE tgrelid = messages_table AND tgname = 'zz_pgmodelnames_placeholder') THEN
            PERFORM pgmodelnames.execute_with_lock_retries(format(
                'DROP TRIGGER IF EXISTS zz_pgmodelnames_placeholder ON %s', messages_table));
        END IF;
        RETURN;
    END IF;
    PERFORM pgmodelnames.refuse_trigger_on_distributed();

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

-- Placeholders for the stored messages that match a condition on messages
-- AS m (true: all of them): one set-based INSERT ... SELECT, which reads
-- messages with ACCESS SHARE (blocking no insert), locks only the llm_models
-- rows it creates, and is idempotent. The history pass and the sweep.
-- Returns how many placeholders it created.
CREATE OR REPLACE FUNCTION pgmodelnames.create_placeholders_where(condition text)
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
                   AND (%5$s)
                 GROUP BY 1) AS o
         WHERE NOT EXISTS (SELECT FROM @app_schema@.llm_models AS l WHERE l.id = o.id)
        $sql$,
        CASE WHEN is_uuid THEN 'm.model_id' ELSE 'm.model_id::uuid' END,
        CASE WHEN has_user_id THEN 'm.user_id::text' ELSE 'NULL::text' END,
        messages_table,
        CASE WHEN is_uuid THEN '' ELSE 'AND ' || pgmodelnames.uuid_shape_test('m.model_id') END,
        condition));
    GET DIAGNOSTICS created = ROW_COUNT;
    RETURN created;
END
$$;

CREATE OR REPLACE FUNCTION pgmodelnames.create_missing_placeholders()
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN pgmodelnames.create_placeholders_where('true');
END
$$;

-- The index path: placeholders for the distinct model ids of messages,
-- walked through a btree index on messages(model_id) (a loose index scan:
-- one index descent per distinct id, however many messages there are), then
-- only the unknown ids' messages are read for their provider and user.
-- Exact without any high-water mark; costs in proportion to the number of
-- distinct model ids, not messages.
CREATE OR REPLACE FUNCTION pgmodelnames.create_placeholders_by_index()
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
        WITH RECURSIVE ids AS (
            (SELECT m.model_id FROM %1$s AS m WHERE m.model_id IS NOT NULL ORDER BY m.model_id LIMIT 1)
            UNION ALL
            SELECT (SELECT m.model_id FROM %1$s AS m WHERE m.model_id > ids.model_id ORDER BY m.model_id LIMIT 1)
              FROM ids WHERE ids.model_id IS NOT NULL
        ),
        unknown AS MATERIALIZED (
            SELECT ids.model_id, %2$s AS id
              FROM ids
             WHERE ids.model_id IS NOT NULL %3$s
               AND NOT EXISTS (SELECT FROM @app_schema@.llm_models AS l WHERE l.id = %2$s)
        )
        SELECT u.id, pgmodelnames.normalized_provider(min(c.provider)) AS provider, min(c.user_id) AS user_id
          FROM unknown AS u
          CROSS JOIN LATERAL (
                SELECT lower(btrim(m.provider)) AS provider, %4$s AS user_id
                  FROM %1$s AS m
                 WHERE m.model_id = u.model_id
                   AND lower(btrim(m.provider)) IN (SELECT provider FROM pgmodelnames.covered_providers)) AS c
         GROUP BY u.id
        $sql$,
        messages_table,
        CASE WHEN is_uuid THEN 'ids.model_id' ELSE 'ids.model_id::uuid' END,
        CASE WHEN is_uuid THEN '' ELSE 'AND ' || pgmodelnames.uuid_shape_test('ids.model_id') END,
        CASE WHEN has_user_id THEN 'm.user_id::text' ELSE 'NULL::text' END));
    GET DIAGNOSTICS created = ROW_COUNT;
    RETURN created;
END
$$;

-- How the sweep finds what is new in messages, from the catalog (checked on
-- every sweep, so a new index is used from the next one on):
--   column  a high-water mark on a column that only grows as rows are
--           inserted, read through a btree index whose first column it is:
--           an integer identity/serial column whose sequence hands out one
--           value at a time (CACHE 1: with a cache, sessions insert values
--           below ones already committed), else a timestamptz column whose
--           default is the time of the insert (now(), CURRENT_TIMESTAMP,
--           clock_timestamp(), statement_timestamp(), transaction_timestamp()).
--           An identity column is preferred: an import of history gets new
--           values from it, while it keeps its old created_at. A sweep reads
--           only the rows at or above the mark: nothing new costs one index
--           probe, whatever the size of the table;
--   index   no such column, but a btree index on model_id: the loose index
--           scan of create_placeholders_by_index();
--   full    neither: every sweep reads all of messages (doctor says which
--           index to add).
CREATE OR REPLACE FUNCTION pgmodelnames.sweep_method(OUT method text, OUT mark_column name, OUT mark_type regtype,
                                                     OUT nullable boolean)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    messages_table constant regclass := '@app_schema_literal@.messages'::regclass;
    preferred      constant text := coalesce((SELECT s.prefer FROM pgmodelnames.sweep_state AS s), 'auto');
BEGIN
    IF preferred = 'full' THEN
        method := 'full';
        RETURN;
    END IF;
    SELECT 'column', c.attname, c.atttypid::regtype, NOT c.attnotnull
      INTO method, mark_column, mark_type, nullable
      FROM (SELECT a.attname, a.atttypid, a.attnotnull,
                   CASE WHEN a.atttypid IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype)
                             AND (a.attidentity <> '' OR pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%')
                             AND EXISTS (SELECT FROM pg_catalog.pg_sequence s
                                          WHERE s.seqrelid = pg_get_serial_sequence(messages_table::text, a.attname)::regclass
                                            AND s.seqcache = 1 AND NOT s.seqcycle)
                        THEN 1
                        WHEN a.atttypid = 'timestamptz'::regtype
                             AND pg_get_expr(d.adbin, d.adrelid) IN ('now()', 'CURRENT_TIMESTAMP', 'clock_timestamp()',
                                                                     'statement_timestamp()', 'transaction_timestamp()')
                        THEN 2
                   END AS preference
              FROM pg_catalog.pg_index i
              JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
              JOIN pg_catalog.pg_am am ON am.oid = ic.relam
              JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
              LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             WHERE i.indrelid = messages_table AND am.amname = 'btree' AND i.indpred IS NULL
               AND i.indisvalid AND i.indisready AND NOT a.attisdropped) AS c
     WHERE c.preference IS NOT NULL AND preferred = 'auto'
     ORDER BY c.preference, c.attname
     LIMIT 1;
    IF method IS NULL THEN
        method := CASE WHEN EXISTS (
                           SELECT FROM pg_catalog.pg_index i
                             JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
                             JOIN pg_catalog.pg_am am ON am.oid = ic.relam
                             JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                            WHERE i.indrelid = messages_table AND am.amname = 'btree' AND i.indpred IS NULL
                              AND i.indisvalid AND i.indisready AND a.attname = 'model_id')
                       THEN 'index' ELSE 'full' END;
    END IF;
END
$$;

-- Choose how the sweep reads messages: auto (the default: a high-water mark
-- where messages has a column for it, else the index path, else a full
-- scan), index (the loose index scan of an index on model_id, also where a
-- mark column exists: exact whoever set the values, e.g. on a logical
-- replication subscriber, where created_at and identity values come from the
-- publisher and can arrive below the mark), or full. Returns the method the
-- next sweep will use.
CREATE OR REPLACE FUNCTION pgmodelnames.set_sweep_method(preference text)
RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    wanted constant text := lower(btrim(preference));
BEGIN
    IF wanted IS NULL OR wanted NOT IN ('auto', 'index', 'full') THEN
        RAISE EXCEPTION USING ERRCODE = 'PMN03',
            MESSAGE = format('unknown sweep method %L: use auto, index or full', left(preference, 40));
    END IF;
    UPDATE pgmodelnames.sweep_state SET prefer = wanted;
    RETURN (pgmodelnames.sweep_method()).method;
END
$$;

-- The sweep: placeholders for the covered model UUIDs of messages, without a
-- trigger. Set-based, idempotent, and pooler-safe (no session state: one
-- call is one transaction; sweeps take turns on a transaction-level advisory
-- lock). In trigger mode it does nothing unless full => true (then it is the
-- history pass). Run it at READ COMMITTED (the default).
--
-- Rows committed late. With a high-water mark on a column that grows as
-- rows are inserted, a transaction that took its value (its now(), or its
-- identity value) before another one but commits after the sweep has read
-- would fall below the mark and be missed. A fixed safety window would only
-- narrow that to transactions longer than the window. Instead the mark is
-- moved only to a value that no transaction still running can insert below:
--   1. bound := the column's value for an insert starting now (clock_timestamp()
--      for a time column; the largest committed value for an identity, since
--      the sequence hands out larger ones only);
--   2. the transactions running right then in this database (their virtual
--      transaction ids, which every transaction holds from its first
--      statement, visible in pg_locks to any role);
--   3. wait, at most `settle`, for them to end. Every row below bound was
--      inserted by a transaction that had begun by step 1, so once they have
--      all ended (and no prepared transaction waits), every such row is
--      committed or gone;
--   4. read the rows at or above the OLD mark (they include those late rows)
--      and create their placeholders;
--   5. move the mark to bound only if step 3 saw them all end; otherwise keep
--      it (held back: the next sweep reads from the old mark again, so a
--      long transaction costs re-reading, never a missed model).
-- Values the database did not generate at insert time (an import with its
-- own created_at, rows replicated with the publisher's values, app clocks)
-- can be below the mark: run a full sweep after such loads
-- (`pgmodelnames sweep --full`); schedule_sweep() also schedules a nightly one.
CREATE OR REPLACE FUNCTION pgmodelnames.sweep(full boolean DEFAULT false, settle interval DEFAULT '2 seconds')
RETURNS TABLE (mode text, method text, mark_column text, read_from text, high_water_mark text,
               created bigint, held_back boolean, seconds double precision)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    messages_table constant regclass := '@app_schema_literal@.messages'::regclass;
    started        constant timestamptz := clock_timestamp();
    state          pgmodelnames.sweep_state;
    how            record;
    old_mark       text;
    new_bound      text;
    running        text[];
    drained        boolean := true;
    condition      text := 'true';
    made           bigint;
    whole          boolean;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION USING ERRCODE = 'PMN03',
            MESSAGE = 'pgmodelnames.sweep() must run at READ COMMITTED (it reads what others commit while it waits)';
    END IF;
    -- Sweeps take turns (two pg_cron runs, a backfill pass beside them).
    PERFORM pg_advisory_xact_lock(1885957487, 5);
    SELECT * INTO state FROM pgmodelnames.sweep_state;
    IF state.mode = 'trigger' THEN
        made := CASE WHEN sweep.full THEN pgmodelnames.create_missing_placeholders() ELSE 0 END;
        RETURN QUERY SELECT 'trigger'::text, CASE WHEN sweep.full THEN 'full' END, NULL::text, NULL::text, NULL::text,
                            made, false, extract(epoch FROM clock_timestamp() - started)::double precision;
        RETURN;
    END IF;

    SELECT * INTO how FROM pgmodelnames.sweep_method();
    IF how.method = 'column' THEN
        -- A changed column (an index added or dropped) starts from the bottom.
        IF NOT sweep.full AND state.method = 'column' AND state.mark_column = how.mark_column THEN
            old_mark := CASE WHEN how.mark_type = 'timestamptz'::regtype THEN state.mark_time::text
                             ELSE state.mark_number::text END;
        END IF;
        IF old_mark IS NOT NULL THEN
            condition := format('m.%I >= %L::%s', how.mark_column, old_mark, how.mark_type);
        END IF;
        -- 1. the bound
        IF how.mark_type = 'timestamptz'::regtype THEN
            new_bound := clock_timestamp()::text;
        ELSE
            EXECUTE format('SELECT max(m.%I)::text FROM %s AS m', how.mark_column, messages_table) INTO new_bound;
        END IF;
        -- 2. the transactions running now in this database, except this one,
        -- autovacuum, and sweeps waiting for this one's lock
        running := ARRAY(
            SELECT l.virtualxid
              FROM pg_catalog.pg_locks AS l
              JOIN pg_catalog.pg_stat_activity AS a ON a.pid = l.pid
             WHERE l.locktype = 'virtualxid' AND l.granted
               AND a.datid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
               AND l.pid <> pg_backend_pid()
               AND a.backend_type IS DISTINCT FROM 'autovacuum worker'
               AND NOT EXISTS (SELECT FROM pg_catalog.pg_locks AS w
                                WHERE w.pid = l.pid AND w.locktype = 'advisory' AND NOT w.granted
                                  AND w.classid = 1885957487 AND w.objid = 5 AND w.objsubid = 2));
        -- 3. wait for them to end, at most `settle`
        LOOP
            drained := NOT EXISTS (SELECT FROM pg_catalog.pg_locks AS l
                                    WHERE l.locktype = 'virtualxid' AND l.granted AND l.virtualxid = ANY (running))
                       AND NOT EXISTS (SELECT FROM pg_catalog.pg_prepared_xacts AS p
                                        WHERE p.database = current_database());
            EXIT WHEN drained OR clock_timestamp() >= started + settle;
            PERFORM pg_sleep(0.01);
        END LOOP;
        -- 4. read from the old mark (rows without a value in a nullable
        -- column, which no range reaches, in a second index scan of their own)
        made := pgmodelnames.create_placeholders_where(condition);
        IF old_mark IS NOT NULL AND how.nullable THEN
            made := made + pgmodelnames.create_placeholders_where(format('m.%I IS NULL', how.mark_column));
        END IF;
    ELSIF how.method = 'index' THEN
        made := pgmodelnames.create_placeholders_by_index();
    ELSE
        made := pgmodelnames.create_missing_placeholders();
    END IF;
    whole := old_mark IS NULL;

    -- 5. move the mark (column method, all earlier transactions ended)
    UPDATE pgmodelnames.sweep_state AS s
       SET method = how.method,
           mark_column = how.mark_column,
           mark_time = CASE WHEN how.method <> 'column' OR how.mark_type <> 'timestamptz'::regtype THEN NULL
                            WHEN drained THEN new_bound::timestamptz
                            WHEN state.mark_column = how.mark_column THEN s.mark_time END,
           mark_number = CASE WHEN how.method <> 'column' OR how.mark_type = 'timestamptz'::regtype THEN NULL
                              WHEN drained THEN new_bound::bigint
                              WHEN state.mark_column = how.mark_column THEN s.mark_number END,
           held_back_since = CASE WHEN drained THEN NULL
                                  ELSE (SELECT min(a.xact_start) FROM pg_catalog.pg_locks AS l
                                          JOIN pg_catalog.pg_stat_activity AS a ON a.pid = l.pid
                                         WHERE l.locktype = 'virtualxid' AND l.granted
                                           AND l.virtualxid = ANY (running)) END,
           held_back_pids = CASE WHEN drained THEN NULL
                                 ELSE ARRAY(SELECT l.pid FROM pg_catalog.pg_locks AS l
                                             WHERE l.locktype = 'virtualxid' AND l.granted
                                               AND l.virtualxid = ANY (running) ORDER BY 1) END,
           last_sweep_at = started,
           last_sweep_seconds = extract(epoch FROM clock_timestamp() - started),
           last_sweep_created = made,
           last_full_sweep_at = CASE WHEN whole THEN started ELSE s.last_full_sweep_at END,
           sweeps = s.sweeps + 1,
           created_total = s.created_total + made;

    RETURN QUERY
        SELECT 'sweep'::text, how.method, how.mark_column::text, old_mark,
               coalesce(s.mark_time::text, s.mark_number::text), made, NOT drained,
               extract(epoch FROM clock_timestamp() - started)::double precision
          FROM pgmodelnames.sweep_state AS s;
END
$$;

-- Switch the placeholder mode. Only the switch, in the caller's
-- transaction: the caller then runs pgmodelnames.sweep(full => true) in a
-- transaction of its own (the history pass in trigger mode, the first full
-- sweep in sweep mode), so that no lock on messages is held while it reads.
--   trigger: (re)creates the trigger; refused on a distributed messages table;
--            unschedules the pg_cron sweeps, which would have nothing to do;
--   sweep:   drops the trigger; the high-water mark starts from the bottom.
CREATE OR REPLACE FUNCTION pgmodelnames.set_placeholder_mode(new_mode text)
RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    wanted constant text := lower(btrim(new_mode));
    was    text;
    fk     name;
BEGIN
    IF wanted IS NULL OR wanted NOT IN ('trigger', 'sweep') THEN
        RAISE EXCEPTION USING ERRCODE = 'PMN03',
            MESSAGE = format('unknown placeholder mode %L: use trigger or sweep', left(new_mode, 40));
    END IF;
    SELECT mode INTO was FROM pgmodelnames.sweep_state FOR UPDATE;
    IF wanted = 'trigger' THEN
        PERFORM pgmodelnames.refuse_trigger_on_distributed();
    END IF;
    -- Without the trigger, a FOREIGN KEY from messages.model_id would refuse
    -- every message of a new model until a sweep: keep trigger mode there.
    SELECT c.conname INTO fk
      FROM pg_catalog.pg_constraint AS c
      JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
     WHERE c.conrelid = '@app_schema_literal@.messages'::regclass AND c.contype = 'f'
       AND c.confrelid = '@app_schema_literal@.llm_models'::regclass AND a.attname = 'model_id'
     LIMIT 1;
    IF wanted = 'sweep' AND fk IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'PMN03',
            MESSAGE = format('messages.model_id has a FOREIGN KEY to llm_models (%I): without the trigger, every '
                             'message of a new model would be refused until a sweep; keep trigger mode, or drop '
                             'the foreign key first', fk);
    END IF;
    UPDATE pgmodelnames.sweep_state
       SET mode = wanted,
           mode_changed_at = CASE WHEN mode = wanted THEN mode_changed_at ELSE now() END,
           method = CASE WHEN mode = wanted THEN method END,
           mark_column = CASE WHEN mode = wanted THEN mark_column END,
           mark_time = CASE WHEN mode = wanted THEN mark_time END,
           mark_number = CASE WHEN mode = wanted THEN mark_number END;
    PERFORM pgmodelnames.install_placeholder_trigger();
    IF wanted = 'trigger' THEN
        PERFORM pgmodelnames.unschedule_sweep();
    END IF;
    RETURN was;
END
$$;

-- Change the covered providers (as in 0003): the table, the trigger's WHEN
-- clause in trigger mode, and placeholders for the history of newly covered
-- providers (a full pass: their messages may lie below the sweep's mark).
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

-- pg_cron, where the extension is installed in this database (Supabase has
-- it; elsewhere it needs shared_preload_libraries = 'pg_cron' and runs its
-- jobs in the database named by cron.database_name). Two jobs, by name (so a
-- second call updates them): the incremental sweep, and a nightly full one
-- for rows whose mark value the database did not generate. Returns the jobs.
CREATE OR REPLACE FUNCTION pgmodelnames.schedule_sweep(schedule text DEFAULT '* * * * *',
                                                       full_schedule text DEFAULT '17 3 * * *')
RETURNS TABLE (job_name text, job_schedule text, command text, jobid bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    job record;
BEGIN
    IF to_regprocedure('cron.schedule(text, text, text)') IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'PMN03',
            MESSAGE = format('pg_cron is not installed in database %I: CREATE EXTENSION pg_cron (it needs '
                             'shared_preload_libraries = ''pg_cron''; on Supabase, enable it under Database > '
                             'Extensions), or run "pgmodelnames sweep" from your own scheduler', current_database());
    END IF;
    IF current_setting('cron.database_name', true) IS DISTINCT FROM current_database() THEN
        RAISE EXCEPTION USING ERRCODE = 'PMN03',
            MESSAGE = format('pg_cron runs its jobs from database %I, not %I: connect there and run SELECT '
                             'cron.schedule_in_database(''pgmodelnames-sweep'', %L, ''SELECT pgmodelnames.sweep()'', %L)',
                             current_setting('cron.database_name', true), current_database(), schedule, current_database());
    END IF;
    IF (SELECT mode FROM pgmodelnames.sweep_state) <> 'sweep' THEN
        RAISE EXCEPTION USING ERRCODE = 'PMN03',
            MESSAGE = 'placeholders come from the trigger: switch to sweep mode first (pgmodelnames upgrade --placeholders sweep)';
    END IF;
    FOR job IN
        SELECT * FROM (VALUES ('pgmodelnames-sweep', schedule, 'SELECT pgmodelnames.sweep()'),
                              ('pgmodelnames-full-sweep', full_schedule, 'SELECT pgmodelnames.sweep(full => true)'))
                      AS j(name, spec, cmd)
         WHERE j.spec IS NOT NULL
    LOOP
        job_name := job.name;
        job_schedule := job.spec;
        command := job.cmd;
        EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO jobid USING job.name, job.spec, job.cmd;
        RETURN NEXT;
    END LOOP;
    IF full_schedule IS NULL THEN
        PERFORM pgmodelnames.unschedule_sweep(only_full => true);
    END IF;
END
$$;

-- Remove the pg_cron sweeps (none, or no pg_cron: nothing to do). Returns
-- how many jobs it removed.
CREATE OR REPLACE FUNCTION pgmodelnames.unschedule_sweep(only_full boolean DEFAULT false)
RETURNS integer LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    removed integer := 0;
BEGIN
    IF to_regclass('cron.job') IS NOT NULL AND to_regprocedure('cron.unschedule(bigint)') IS NOT NULL THEN
        EXECUTE $sql$
            SELECT count(cron.unschedule(j.jobid))::integer FROM cron.job AS j
             WHERE j.jobname = 'pgmodelnames-full-sweep' OR (NOT $1 AND j.jobname = 'pgmodelnames-sweep')
            $sql$ INTO removed USING only_full;
    END IF;
    RETURN removed;
END
$$;

-- What the doctor shows: the mode, how the sweep reads, its mark, when it
-- last ran, and the pg_cron jobs. One row.
CREATE OR REPLACE FUNCTION pgmodelnames.sweep_status()
RETURNS TABLE (mode text, distributed boolean, method text, mark_column text, high_water_mark text,
               held_back_since timestamptz, held_back_pids integer[], last_sweep_at timestamptz,
               last_sweep_seconds double precision, last_sweep_created bigint, last_full_sweep_at timestamptz,
               sweeps bigint, scheduled jsonb)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    jobs jsonb;
BEGIN
    IF to_regclass('cron.job') IS NOT NULL THEN
        EXECUTE $sql$
            SELECT jsonb_agg(jsonb_build_object('job', j.jobname, 'schedule', j.schedule, 'active', j.active)
                             ORDER BY j.jobname)
              FROM cron.job AS j WHERE j.jobname IN ('pgmodelnames-sweep', 'pgmodelnames-full-sweep')
            $sql$ INTO jobs;
    END IF;
    RETURN QUERY
        SELECT s.mode, pgmodelnames.messages_is_distributed(),
               CASE WHEN s.mode = 'sweep' THEN coalesce(s.method, (pgmodelnames.sweep_method()).method) END,
               CASE WHEN s.mode = 'sweep' THEN coalesce(s.mark_column, (pgmodelnames.sweep_method()).mark_column)::text END,
               coalesce(s.mark_time::text, s.mark_number::text), s.held_back_since, s.held_back_pids,
               s.last_sweep_at, s.last_sweep_seconds, s.last_sweep_created, s.last_full_sweep_at, s.sweeps,
               coalesce(jobs, '[]'::jsonb)
          FROM pgmodelnames.sweep_state AS s;
END
$$;

REVOKE EXECUTE ON FUNCTION
    pgmodelnames.messages_is_distributed(),
    pgmodelnames.uuid_shape_test(text),
    pgmodelnames.refuse_trigger_on_distributed(),
    pgmodelnames.install_placeholder_trigger(),
    pgmodelnames.create_placeholders_where(text),
    pgmodelnames.create_missing_placeholders(),
    pgmodelnames.create_placeholders_by_index(),
    pgmodelnames.sweep_method(),
    pgmodelnames.set_sweep_method(text),
    pgmodelnames.sweep(boolean, interval),
    pgmodelnames.set_placeholder_mode(text),
    pgmodelnames.set_covered_providers(text[]),
    pgmodelnames.schedule_sweep(text, text),
    pgmodelnames.unschedule_sweep(boolean),
    pgmodelnames.sweep_status()
FROM PUBLIC;

-- The trigger with the new UUID-shape test (trigger mode), or none (sweep mode).
SELECT pgmodelnames.install_placeholder_trigger();
