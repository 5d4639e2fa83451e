-- Doctor: model ids in messages that llm_models does not know, by provider,
-- with message counts. Two ways to read messages, chosen by the setting
-- pgmodelnames.doctor_use_index (the doctor sets it to on when messages has
-- a btree index on model_id; the branch not chosen is pruned before it runs):
--   off: one pass over messages, one group per (provider, model id), then
--        the (few) groups are checked against llm_models;
--   on:  a loose index scan (a recursive CTE that jumps from one distinct
--        model_id to the next, one index probe per distinct id) finds the few
--        distinct ids without reading the table; only the messages of unknown
--        ids are then counted, from the same index. All messages of one
--        unknown id are then counted under the provider of one of them
--        (placeholders take one provider per id too); an id used with two
--        providers is rare.
--
-- Output, one row per (provider, covered, is_uuid):
--   covered and is_uuid   orphans: messages name a model that llm_models does
--                         not have; pgmodelnames gives each a placeholder row
--                         (upgrade, or upgrade --providers to re-run the pass)
--   not covered, is_uuid  unknown models of providers pgmodelnames does not
--                         cover (upgrade --providers vllm,<provider> adds them)
--   not is_uuid           plain ids in a TEXT model_id (gpt-4o-mini): no row
--                         can exist for them; model_display_name(model_id,
--                         provider) shows them as they are
-- with the number of distinct ids, their messages, and the five ids with the
-- most messages. provider is lower-cased and trimmed, as placeholders store it.
-- A text id is trimmed as pgmodelnames.trimmed() does (no-break and
-- zero-width spaces too), the rules being spelled out here
-- (tests/test_naming_rules.py checks that they agree).
--
-- Covered providers: the setting pgmodelnames.doctor_providers (comma
-- separated; the doctor sets it from pgmodelnames.covered_providers), else vllm.
-- Row-level security applies: run it as a role that sees every row (the
-- table owner, postgres, or service_role on Supabase).
-- Works before install (no pgmodelnames object is referenced).
--
-- Run it alone (schema public):
--   sed 's/@app_schema_literal@/public/g; s/@app_schema@/"public"/g' unknown_model_ids.sql | PGOPTIONS='-c pgmodelnames.doctor_use_index=on' psql "$DATABASE_URL"
WITH RECURSIVE covered AS (
    SELECT DISTINCT lower(btrim(p)) AS provider
      FROM unnest(string_to_array(
               coalesce(nullif(current_setting('pgmodelnames.doctor_providers', true), ''), 'vllm'), ',')) AS p
     WHERE btrim(p) <> ''
),
distinct_ids AS (
    (SELECT m.model_id FROM @app_schema@.messages AS m
      WHERE m.model_id IS NOT NULL
      ORDER BY m.model_id LIMIT 1)
    UNION ALL
    SELECT (SELECT m.model_id FROM @app_schema@.messages AS m
             WHERE m.model_id > d.model_id
             ORDER BY m.model_id LIMIT 1)
      FROM distinct_ids AS d
     WHERE d.model_id IS NOT NULL
),
candidates AS (
    -- distinct ids with no llm_models row (every non-UUID text id is one)
    SELECT d.model_id
      FROM distinct_ids AS d
     WHERE d.model_id IS NOT NULL
       AND NOT EXISTS (
           SELECT FROM @app_schema@.llm_models AS l
            WHERE l.id = CASE WHEN length(btrim(d.model_id::text, E' \t\r\n\x0b\f\u00a0\u200b\u3000\ufeff')) BETWEEN 32 AND 36
                               AND btrim(d.model_id::text, E' \t\r\n\x0b\f\u00a0\u200b\u3000\ufeff') ~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$'
                              THEN btrim(d.model_id::text, E' \t\r\n\x0b\f\u00a0\u200b\u3000\ufeff')::uuid
                         END)
),
used AS (
    -- off: the one pass over messages
    SELECT lower(btrim(m.provider)) AS provider, m.model_id, count(*) AS messages
      FROM @app_schema@.messages AS m
     WHERE m.model_id IS NOT NULL
       AND NOT coalesce(current_setting('pgmodelnames.doctor_use_index', true), 'off') = 'on'
     GROUP BY 1, 2
    UNION ALL
    -- on: per unknown id, its messages counted from the index alone (an
    -- index-only scan once autovacuum has marked the pages all-visible), and
    -- the provider of one of its messages
    SELECT (SELECT lower(btrim(m.provider)) FROM @app_schema@.messages AS m
             WHERE m.model_id = c.model_id LIMIT 1) AS provider,
           c.model_id,
           (SELECT count(*) FROM @app_schema@.messages AS m WHERE m.model_id = c.model_id) AS messages
      FROM candidates AS c
     WHERE coalesce(current_setting('pgmodelnames.doctor_use_index', true), 'off') = 'on'
),
ids AS (
    SELECT u.provider, u.messages, u.model_id::text AS raw_id,
           -- = pgmodelnames.looks_like_uuid(pgmodelnames.trimmed(model_id)),
           -- as model_display_name(text) reads an id; CASE keeps the cast
           -- from ever seeing a non-UUID text id
           CASE WHEN length(btrim(u.model_id::text, E' \t\r\n\x0b\f\u00a0\u200b\u3000\ufeff')) BETWEEN 32 AND 36
                 AND btrim(u.model_id::text, E' \t\r\n\x0b\f\u00a0\u200b\u3000\ufeff') ~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$'
                THEN btrim(u.model_id::text, E' \t\r\n\x0b\f\u00a0\u200b\u3000\ufeff')::uuid
           END AS model_uuid
      FROM used AS u
),
by_model AS (
    -- one entry per model: ' FDAB6388-...' and 'fdab6388-...' in a TEXT
    -- column are the same model
    SELECT provider, model_uuid, coalesce(model_uuid::text, btrim(raw_id, E' \t\r\n\x0b\f\u00a0\u200b\u3000\ufeff')) AS model_id,
           sum(messages) AS messages
      FROM ids
     GROUP BY 1, 2, 3
),
unknown AS (
    SELECT i.*,
           coalesce(i.provider IN (SELECT provider FROM covered), false) AS covered,
           row_number() OVER (PARTITION BY i.provider, i.model_uuid IS NOT NULL
                              ORDER BY i.messages DESC, i.model_id) AS rank
      FROM by_model AS i
     WHERE i.model_uuid IS NULL
        OR NOT EXISTS (SELECT FROM @app_schema@.llm_models AS l WHERE l.id = i.model_uuid)
)
SELECT provider,
       covered,
       model_uuid IS NOT NULL AS is_uuid,
       count(*) AS model_ids,
       sum(messages)::bigint AS messages,
       jsonb_agg(jsonb_build_object('model_id', model_id, 'messages', messages)
                 ORDER BY rank) FILTER (WHERE rank <= 5) AS examples
  FROM unknown
 GROUP BY provider, covered, model_uuid IS NOT NULL
 ORDER BY covered DESC, is_uuid DESC, messages DESC, provider;
