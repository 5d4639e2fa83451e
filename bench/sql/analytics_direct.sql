-- Workload 5, the baseline: messages per model straight from llm_models.
SELECT l.name, count(*) AS messages, avg(m.latency_ms) AS avg_latency_ms
  FROM public.messages m JOIN public.llm_models l ON l.id = m.model_id
 GROUP BY l.name
