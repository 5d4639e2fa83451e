-- Workload 1 as insert_uuid.sql, for a TEXT model_id: the vllm ids are UUID
-- strings, the openai ids plain names like gpt-4o-mini-3.
\set r random(1, 1000000)
\set m random(1, :n_models)
\if :r % 100 < :unknown_pct
INSERT INTO public.messages (conversation_id, role, content, latency_ms, model_id, provider) VALUES (NULL, 'assistant', :content, :r % 2000, gen_random_uuid()::text, 'vllm');
\elif :r % 2 = 0
INSERT INTO public.messages (conversation_id, role, content, latency_ms, model_id, provider) VALUES (NULL, 'assistant', :content, :r % 2000, md5('vllm-' || :m)::uuid::text, 'vllm');
\else
INSERT INTO public.messages (conversation_id, role, content, latency_ms, model_id, provider) VALUES (NULL, 'assistant', :content, :r % 2000, 'gpt-4o-mini-' || :m, 'openai');
\endif
