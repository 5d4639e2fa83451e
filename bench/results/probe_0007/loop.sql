TRUNCATE messages;
\timing on
DO $$
BEGIN
  FOR i IN 1..20000 LOOP
    IF i % 2 = 0 THEN
      INSERT INTO public.messages (conversation_id, role, content, latency_ms, model_id, provider) VALUES (NULL, 'assistant', 'Sure!', i % 2000, md5('vllm-' || (i % 30 + 1))::uuid, 'vllm');
    ELSE
      INSERT INTO public.messages (conversation_id, role, content, latency_ms, model_id, provider) VALUES (NULL, 'assistant', 'Sure!', i % 2000, md5('openai-' || (i % 30 + 1))::uuid, 'openai');
    END IF;
  END LOOP;
END $$;
