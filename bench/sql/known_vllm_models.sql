-- Workload 8: the known vllm models (bench/sql/models.sql) a known insert names.
SELECT id::text FROM public.bench_models WHERE provider = 'vllm' ORDER BY id
