-- Workload 5, the same question through pgmodelnames' view.
SELECT d.display_name, count(*) AS messages, avg(m.latency_ms) AS avg_latency_ms
  FROM public.messages m JOIN public.model_display_names d ON d.id = m.model_id
 GROUP BY d.display_name
