-- The models the bench knows: n_models vllm and n_models openai, all named.
-- bench_models keeps the list, so that a run can remove the placeholders
-- earlier runs created.
CREATE TABLE public.bench_models AS
SELECT md5(p || '-' || i)::uuid AS id, p AS provider, p || '-model-' || i AS name
  FROM unnest(ARRAY['vllm', 'openai']) AS p, generate_series(1, {n_models}) AS i;

INSERT INTO public.llm_models (id, name, model_id, provider, base_url)
SELECT id, name, name, provider, 'http://' || provider || ':8000/v1' FROM public.bench_models;
