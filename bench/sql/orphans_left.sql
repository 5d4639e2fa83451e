-- vllm model ids in messages that still have no llm_models row: zero after a
-- complete upgrade, even with the app inserting new ones meanwhile.
SELECT count(DISTINCT m.model_id)
  FROM public.messages m
 WHERE m.provider = 'vllm'
   AND NOT EXISTS (SELECT FROM public.llm_models l WHERE l.id = m.model_id)
