-- Variant fk: what the app's own integrity check would cost instead of
-- pgmodelnames (uuid only: a TEXT column cannot reference a uuid key).
-- Variant pmnfk applies it before pgmodelnames is installed, which then
-- keeps the row-level trigger (the placeholder must exist before the
-- FOREIGN KEY is checked).
ALTER TABLE public.messages ADD FOREIGN KEY (model_id) REFERENCES public.llm_models (id);
