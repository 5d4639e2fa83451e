TRUNCATE messages;
CHECKPOINT;
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 50;
SET auto_explain.log_analyze = on;
SET auto_explain.log_timing = off;
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_level = 'NOTICE';
SET client_min_messages = notice;
\timing on
INSERT INTO public.messages (conversation_id, role, content, latency_ms, model_id, provider) VALUES (NULL, 'assistant', 'x', 1, md5('vllm-1')::uuid, 'vllm');
INSERT INTO public.messages (conversation_id, role, content, latency_ms, model_id, provider) SELECT * FROM bench_src;
