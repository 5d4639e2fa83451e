-- Workload 4, the app inserting while pgmodelnames upgrade runs: known
-- models, and 1 % with the big database's orphaned ids, so that the trigger
-- and the upgrade's history pass race for the same placeholders.
\set r random(1, 1000000)
\set m random(1, :n_models)
\set o random(1, :n_orphans)
\if :r % 100 = 0
INSERT INTO public.messages (conversation_id, role, content, latency_ms, model_id, provider) VALUES (NULL, 'assistant', :content, :r % 2000, md5('orphan-' || :o)::uuid, 'vllm');
\elif :r % 2 = 0
INSERT INTO public.messages (conversation_id, role, content, latency_ms, model_id, provider) VALUES (NULL, 'assistant', :content, :r % 2000, md5('vllm-' || :m)::uuid, 'vllm');
\else
INSERT INTO public.messages (conversation_id, role, content, latency_ms, model_id, provider) VALUES (NULL, 'assistant', :content, :r % 2000, md5('openai-' || :m)::uuid, 'openai');
\endif
