-- Workload 7: one minute of app inserts arriving at once: {rows} messages
-- (created_at = now()), of which {new_pct} % name a brand-new vllm model
-- (each a fresh UUID: a placeholder each), the rest known models.
INSERT INTO public.messages (conversation_id, user_id, role, content, latency_ms, model_id, provider)
SELECT NULL, md5('user-' || (i % 1000))::uuid, 'assistant', {content}, i % 2000,
       CASE WHEN i % 100 < {new_pct} THEN gen_random_uuid()
            WHEN i % 2 = 0 THEN md5('vllm-' || (i / 2 % {n_models} + 1))::uuid
            ELSE md5('openai-' || (i % {n_models} + 1))::uuid END,
       CASE WHEN i % 100 < {new_pct} OR i % 2 = 0 THEN 'vllm' ELSE 'openai' END
  FROM generate_series(1, {rows}) AS i;
