-- Variant fk: what the app's own integrity check would cost instead of
-- pgmodelnames (uuid only: a TEXT column cannot reference a uuid key).
ALTER TABLE public.messages ADD FOREIGN KEY (model_id) REFERENCES public.llm_models (id);
