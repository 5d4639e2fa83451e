-- While `backfill --watch` runs (scripts/docs_transcripts.py): the app
-- stores 5 messages of a model nobody registered, from 2 users in 2
-- conversations, at the clock's minute.
INSERT INTO public.messages (role, content, model_id, provider, user_id, conversation_id, created_at)
SELECT 'assistant', 'hi', '8c82c43b-b191-4102-8fe7-e2d459cdcbda', 'vllm',
       CASE WHEN i % 2 = 0 THEN 'aaaaaaaa-0000-4000-8000-000000000001'::uuid
            ELSE 'bbbbbbbb-0000-4000-8000-000000000002'::uuid END,
       md5('8c82c43b' || (i % 2))::uuid, current_setting('pmn_docs.clock')::timestamptz
  FROM generate_series(1, 5) AS i;
