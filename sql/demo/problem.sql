-- pgmodelnames demo: the problem.
--   * three vLLM models that answer messages but were never registered
--     (a deploy script forgot to insert them);
--   * a vLLM model registered with an empty name;
--   * an OpenAI model registered properly.
INSERT INTO public.llm_models (id, name, provider, model_id, base_url) VALUES
    ('5a7d9c3e-1b2f-4d6a-8c0e-9f1a2b3c4d5e', '', 'vllm', 'Qwen/Qwen2.5-7B-Instruct', 'http://gpu-2:8000'),
    ('0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9', 'GPT-4o mini', 'openai', 'gpt-4o-mini', 'https://api.openai.com');

-- Assistant messages: (model, provider, how many, typical latency in ms).
INSERT INTO public.messages (role, content, model_id, provider, latency_ms)
SELECT 'assistant', 'answer ' || n, m.model_id, m.provider, m.latency + (n * 37) % 200
  FROM (VALUES
        ('fdab6388-2c1e-4c5a-9f0e-6b1d2a7c9e41'::uuid, 'vllm',   42, 850),
        ('3c9a1f07-5b2d-4e8f-a1c3-7d4e5f6a8b90'::uuid, 'vllm',   27, 1900),
        ('8e2b4d61-9a0c-4f3e-b7d5-1c2e3f4a5b6c'::uuid, 'vLLM ',  11, 400),
        ('5a7d9c3e-1b2f-4d6a-8c0e-9f1a2b3c4d5e'::uuid, 'vllm',   19, 620),
        ('0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9'::uuid, 'openai', 35, 700)
       ) AS m(model_id, provider, how_many, latency)
 CROSS JOIN LATERAL generate_series(1, m.how_many) AS n;
