-- Workload 8: one single-row INSERT naming a vllm model, known or brand-new
-- (then pgmodelnames creates its placeholder), prepared, one per transaction.
INSERT INTO public.messages (conversation_id, role, content, latency_ms, model_id, provider)
VALUES (NULL, 'assistant', %(content)s, 1, %(model_id)s, 'vllm')
