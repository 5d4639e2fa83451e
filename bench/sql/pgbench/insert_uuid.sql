-- Workload 1, one single-row INSERT per transaction, uuid model_id. Half vllm
-- with a known model, half openai with a known model; with
-- -D unknown_pct=N, N % of the rows carry a fresh vllm UUID instead.
\set r random(1, 1000000)
\set m random(1, :n_models)
\if :r % 100 < :unknown_pct
INSERT INTO public.messages (conversation_id, role, content, latency_ms, model_id, provider) VALUES (NULL, 'assistant', :content, :r % 2000, gen_random_uuid(), 'vllm');
\elif :r % 2 = 0
INSERT INTO public.messages (conversation_id, role, content, latency_ms, model_id, provider) VALUES (NULL, 'assistant', :content, :r % 2000, md5('vllm-' || :m)::uuid, 'vllm');
\else
INSERT INTO public.messages (conversation_id, role, content, latency_ms, model_id, provider) VALUES (NULL, 'assistant', :content, :r % 2000, md5('openai-' || :m)::uuid, 'openai');
\endif
