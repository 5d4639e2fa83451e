-- The chat app of the docs' transcripts (scripts/docs_transcripts.py), on
-- the minimal fixture schema with pgmodelnames installed. Every message is
-- dated from one minute, the "clock" (current_setting('pmn_docs.clock'),
-- set by the script: the minute the run starts), so that the evidence the
-- transcripts show (first and last seen, the share of the last 7 days) is
-- the same on every run once the script shifts the clock to the docs' one.
-- The servers' URLs come the same way (pmn_docs.gpu1: tiny-llama, also as
-- tiny-alias, and three LoRA adapters; pmn_docs.gpu2: needs an API key).
--
-- Models: one registered and named by a person (Tiny Llama, on gpu1), one
-- registered without a name (the guard gives it a placeholder) whose
-- base_url is the server that needs a key, and two known only from messages
-- (the placeholder trigger gives them their rows, with no endpoint).

SET TIME ZONE 'UTC';  -- "N days ago" is N times 24 h

INSERT INTO public.llm_models (id, name, model_id, served_model_name, provider, base_url) VALUES
  ('5b1e0c2a-7d3f-4e91-b8a6-2c4d6e8f0a13', 'Tiny Llama', 'tiny-llama', 'tiny-llama', 'vllm',
   current_setting('pmn_docs.gpu1')),
  ('9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b', NULL, NULL, NULL, 'vllm', current_setting('pmn_docs.gpu2'));

-- Per model: how many messages, from how many of the three users, in how many conversations,
-- and how long before the clock message i was sent. The 30 messages of the last 7 days are
-- fdab6388's 9, 9e8d7c6b's 8 and Tiny Llama's 13.
INSERT INTO public.messages (role, content, model_id, provider, user_id, conversation_id, created_at)
SELECT 'assistant', 'hi', m.model, 'vllm',
       (ARRAY['aaaaaaaa-0000-4000-8000-000000000001', 'bbbbbbbb-0000-4000-8000-000000000002',
              'cccccccc-0000-4000-8000-000000000003']::uuid[])[i % m.users + 1],
       md5(m.model::text || (i % m.conversations))::uuid,
       current_setting('pmn_docs.clock')::timestamptz - t.ago
  FROM (VALUES
    -- 42 messages: 33 from 30 days ago to 8 days ago, 9 in the last 7 days, the last 17 h 9 min ago
    ('fdab6388-2c1e-4c5a-9f0e-6b1d2a7c9e41'::uuid, 42, 3, 9),
    -- 11 messages, from 60 days ago to 23 days 15 h 17 min ago
    ('3c9a1f07-5b2d-4e8f-a1c3-7d4e5f6a8b90', 11, 1, 2),
    -- 8 messages, from 5 days ago to 36 h ago
    ('9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b', 8, 2, 3),
    ('5b1e0c2a-7d3f-4e91-b8a6-2c4d6e8f0a13', 13, 1, 4)
  ) AS m(model, count, users, conversations)
 CROSS JOIN LATERAL generate_series(1, m.count) AS i
 CROSS JOIN LATERAL (SELECT CASE m.model
    WHEN 'fdab6388-2c1e-4c5a-9f0e-6b1d2a7c9e41' THEN
         CASE WHEN i <= 33 THEN interval '30 days' - (i - 1) * interval '16 hours'
              ELSE interval '17 hours 9 minutes' + (42 - i) * interval '12 hours' END
    WHEN '3c9a1f07-5b2d-4e8f-a1c3-7d4e5f6a8b90' THEN
         CASE WHEN i = 11 THEN interval '23 days 15 hours 17 minutes'
              ELSE interval '60 days' - (i - 1) * interval '1 day' END
    WHEN '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b' THEN
         CASE WHEN i = 8 THEN interval '36 hours' ELSE interval '5 days' - (i - 1) * interval '12 hours' END
    ELSE i * interval '5 hours' END AS ago) AS t;
