TRUNCATE messages;
SET synchronous_commit = off;
\timing on
DO $$
BEGIN
  FOR i IN 1..20000 LOOP
    IF i % 2 = 0 THEN
      INSERT INTO public.messages (conversation_id, role, content, latency_ms, model_id, provider) VALUES (NULL, 'assistant', 'Sure!', i % 2000, md5('vllm-' || (i % 30 + 1))::uuid::text, 'vllm');
    ELSE
      INSERT INTO public.messages (conversation_id, role, content, latency_ms, model_id, provider) VALUES (NULL, 'assistant', 'Sure!', i % 2000, 'gpt-4o-mini-' || (i % 30 + 1), 'openai');
    END IF;
    COMMIT;
  END LOOP;
END $$;
