-- Doctor and backfill: what a person needs to recognise a model known only
-- from messages (a placeholder no endpoint can match). Per model id: how
-- many messages name it, when it was first and last seen, by how many users
-- in how many conversations, and its share of the recent traffic (its
-- messages of the last N days against all messages of those days).
--
-- Only the placeholders' messages are read (messages can hold tens of
-- millions of rows): the WHERE clause compares model_id with the given ids
-- in model_id's own type, so an index on messages.model_id is used when
-- there is one, and the ids' messages are aggregated in one pass otherwise.
-- The recent total is one count over the window (an index on created_at
-- serves it). Nothing is computed per row beyond the aggregates.
--
-- Filled in by the caller from message_columns.sql (already-quoted SQL):
--   @model_match@      uuid model_id: m.model_id = ANY (%(ids)s::uuid[])
--                      text model_id: m.model_id = ANY (%(spellings)s::text[]), the UUID text in
--                      the spellings the placeholder trigger accepts (lower and upper case,
--                      with and without hyphens)
--   @model_key@        m.model_id (uuid), or lower(m.model_id)::uuid (text)
--   @created_at@       m.created_at, or NULL::timestamptz when messages has no created_at
--   @user_id@          m.user_id, or NULL::text when there is no such column
--   @conversation_id@  m.conversation_id, or NULL::text when there is no such column
-- and the parameters %(ids)s / %(spellings)s and %(recent_days)s (the window, in days).
-- A missing column gives NULL dates and a share of NULL, and 0 users or
-- conversations (the caller shows them as unknown).
--
-- Run it alone (schema public, a uuid model_id, all three optional columns, one model, 7 days):
--   sed -e 's/@app_schema@/"public"/g' -e 's/@model_match@/m.model_id = ANY (%(ids)s::uuid[])/' \
--       -e 's/@model_key@/m.model_id/' -e 's/@created_at@/m.created_at/g' -e 's/@user_id@/m.user_id/' \
--       -e 's/@conversation_id@/m.conversation_id/' \
--       -e "s/%(ids)s/'{fdab6388-2c1e-4c5a-9f0e-6b1d2a7c9e41}'/" -e 's/%(recent_days)s/7/g' \
--       placeholder_evidence.sql | psql "$DATABASE_URL"
WITH named AS (
    SELECT @model_key@ AS model_uuid,
           @created_at@ AS created_at,
           @user_id@ AS user_id,
           @conversation_id@ AS conversation_id
      FROM @app_schema@.messages AS m
     WHERE @model_match@
),
per_model AS (
    SELECT model_uuid,
           count(*) AS messages,
           min(created_at) AS first_seen,
           max(created_at) AS last_seen,
           count(DISTINCT user_id) AS users,
           count(DISTINCT conversation_id) AS conversations,
           count(*) FILTER (WHERE created_at >= now() - make_interval(days => %(recent_days)s)) AS recent_messages
      FROM named
     GROUP BY model_uuid
),
recent AS (
    -- every message of the window, whatever its model (NULL without created_at:
    -- the planner then skips the scan)
    SELECT count(*) AS messages
      FROM @app_schema@.messages AS m
     WHERE @created_at@ >= now() - make_interval(days => %(recent_days)s)
)
SELECT p.model_uuid::text AS model,
       p.messages,
       p.first_seen,
       p.last_seen,
       p.users,
       p.conversations,
       p.recent_messages,
       r.messages AS recent_total,
       round(p.recent_messages::numeric / nullif(r.messages, 0), 4) AS recent_share
  FROM per_model AS p
 CROSS JOIN recent AS r
 ORDER BY p.messages DESC, p.model_uuid;
