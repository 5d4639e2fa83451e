-- pgmodelnames demo: the analytics query a dashboard runs today. Models with
-- no registry row, or an empty name, can only be shown by their UUID.
SELECT coalesce(nullif(btrim(l.name), ''), m.model_id::text) AS model,
       count(*) AS messages,
       round(avg(m.latency_ms)) AS avg_latency_ms
  FROM public.messages AS m
  LEFT JOIN public.llm_models AS l ON l.id = m.model_id
 WHERE m.role = 'assistant'
 GROUP BY 1
 ORDER BY messages DESC;
