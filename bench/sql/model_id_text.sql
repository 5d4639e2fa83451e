-- The TEXT variant of the app: the same schema with a text model_id, as apps
-- that also store ids like gpt-4o-mini have it.
ALTER TABLE public.messages ALTER COLUMN model_id TYPE text;
