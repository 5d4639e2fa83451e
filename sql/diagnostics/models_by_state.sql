-- Doctor: the covered-provider rows of llm_models, counted by the state of
-- their name:
--   placeholder  "Unknown vllm model fdab6388": readable, but awaiting a real
--                name (pgmodelnames backfill / rename)
--   missing      NULL or blank name (no visible character: spaces, tabs,
--                no-break or zero-width spaces only)
--   uuid_name    the name is a bare UUID (usually the row's own id)
--   named        anything else (by a human or by pgmodelnames; machine_named.sql
--                tells them apart once pgmodelnames is installed)
-- Works before install: the naming rules of pgmodelnames.placeholder_name(),
-- trimmed(), is_usable_name() and looks_like_uuid() are spelled out here
-- instead of called (tests/test_naming_rules.py checks that they agree).
--
-- Covered providers: the setting pgmodelnames.doctor_providers (comma
-- separated; the doctor sets it from pgmodelnames.covered_providers), else vllm.
-- Run it alone (schema public, providers vllm and ollama):
--   sed 's/@app_schema_literal@/public/g; s/@app_schema@/"public"/g' models_by_state.sql \
--     | PGOPTIONS='-c pgmodelnames.doctor_providers=vllm,ollama' psql "$DATABASE_URL"
WITH covered AS (
    SELECT DISTINCT lower(btrim(p)) AS provider
      FROM unnest(string_to_array(
               coalesce(nullif(current_setting('pgmodelnames.doctor_providers', true), ''), 'vllm'), ',')) AS p
     WHERE btrim(p) <> ''
),
models AS (
    SELECT l.id,
           lower(btrim(l.provider)) AS provider,
           -- = NOT pgmodelnames.is_usable_name(l.name) for want of a visible character
           coalesce(l.name !~ E'[^[:space:][:cntrl:]\u00a0\u00ad\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff]',
                    true) AS blank,
           -- = pgmodelnames.trimmed(l.name): white space, the vertical tab written
           -- \x0b (an E'' string has no \v escape)
           btrim(l.name, E' \t\r\n\x0b\f\u00a0\u200b\u3000\ufeff') AS name,
           -- = pgmodelnames.placeholder_name(l.id, l.provider, 0): the name
           -- without its digits (each placeholder carries 8, 13, 18, 23 or
           -- 36 characters of its UUID, the fewest that keep it distinct)
           'Unknown '
             || coalesce(left(regexp_replace(nullif(lower(btrim(l.provider)), ''), '[[:cntrl:]]', '', 'g'), 40) || ' ', '')
             || 'model ' AS placeholder_prefix,
           l.id::text AS uuid_text
      FROM @app_schema@.llm_models AS l
     WHERE lower(btrim(l.provider)) IN (SELECT provider FROM covered)
),
classified AS (
    SELECT id, provider,
           CASE WHEN blank THEN 'missing'
                -- = pgmodelnames.looks_like_uuid(pgmodelnames.trimmed(name))
                WHEN length(name) BETWEEN 32 AND 36
                     AND name ~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$' THEN 'uuid_name'
                -- = pgmodelnames.is_placeholder_name(name, id, provider)
                WHEN name IN (SELECT placeholder_prefix || left(uuid_text, w)
                                FROM unnest(ARRAY[8, 13, 18, 23, 36]) AS w) THEN 'placeholder'
                ELSE 'named'
           END AS state
      FROM models
)
SELECT provider,
       state,
       count(*) AS models,
       -- a few ids to act on (pgmodelnames rename UUID NAME)
       (array_agg(id::text ORDER BY id))[1:5] AS examples
  FROM classified
 GROUP BY provider, state
 ORDER BY provider, array_position(ARRAY['named', 'placeholder', 'missing', 'uuid_name'], state);
