-- pgmodelnames demo: the same query joined to pgmodelnames' view: every
-- model has a readable, distinct name.
SELECT v.display_name AS model,
       count(*) AS messages,
       round(avg(m.latency_ms)) AS avg_latency_ms
  FROM public.messages AS m
  JOIN public.model_display_names AS v ON v.id = m.model_id
 WHERE m.role = 'assistant'
 GROUP BY 1
 ORDER BY messages DESC;
