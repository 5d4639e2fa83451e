-- The big database of workloads 4-6 (uuid model_id, no index on it):
-- 50 % openai (known), 45 % vllm known, 5 % vllm with one of n_orphans model
-- ids that llm_models does not know, so that the upgrade's history pass has
-- placeholders to create (about 100 messages each) while the app inserts.
CREATE TABLE public.bench_orphans AS
SELECT md5('orphan-' || i)::uuid AS id FROM generate_series(1, {n_orphans}) AS i;

INSERT INTO public.messages (conversation_id, user_id, role, content, latency_ms, model_id, provider, created_at)
SELECT NULL, md5('user-' || (i % 1000))::uuid, 'assistant', {content}, (i::bigint * 7919 % 5000)::int,
       CASE WHEN i % 2 = 1 THEN md5('openai-' || (i % {n_models} + 1))::uuid
            WHEN i % 20 = 0 THEN md5('orphan-' || ((i / 20) % {n_orphans} + 1))::uuid
            ELSE md5('vllm-' || (i / 2 % {n_models} + 1))::uuid END,
       CASE WHEN i % 2 = 1 THEN 'openai' ELSE 'vllm' END,
       now() - (i % 100000) * interval '1 minute'
  FROM generate_series(1, {rows}) AS i;
