-- The rows of one bulk statement (workload 2), written once to a COPY file
-- so that every variant inserts exactly the same rows. Half vllm with a
-- known model, half openai (a known uuid, or a plain id like gpt-4o-mini-3
-- for a TEXT column); unknown_pct % of the rows carry a fresh vllm UUID that
-- llm_models does not know. model_id is text here: COPY writes both column
-- types the same way.
SELECT NULL::uuid AS conversation_id, 'assistant' AS role, {content} AS content, i % 2000 AS latency_ms,
       CASE WHEN i % 100 < {unknown_pct} THEN gen_random_uuid()::text
            WHEN i % 2 = 0 THEN md5('vllm-' || (i / 2 % {n_models} + 1))::uuid::text
            WHEN {plain_openai_ids} THEN 'gpt-4o-mini-' || (i % {n_models} + 1)
            ELSE md5('openai-' || (i % {n_models} + 1))::uuid::text
       END AS model_id,
       CASE WHEN i % 100 < {unknown_pct} OR i % 2 = 0 THEN 'vllm' ELSE 'openai' END AS provider
  FROM generate_series(1, {rows}) AS i
