-- Variant oldfloor (TEXT only): the floor variant (functions that only return
-- NEW) behind revision 0004's WHEN clause (variants/oldrx.sql): what the old
-- UUID-shape test costs on its own, beside floor (today's test).
-- The WHEN clause belongs to the row-level trigger (revision 0007 installs
-- the statement-level one on the bench schema): the row shape first.
SELECT pgmodelnames.set_trigger_shape('row');

CREATE OR REPLACE FUNCTION pgmodelnames.messages_placeholder_uuid() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;

CREATE OR REPLACE FUNCTION pgmodelnames.messages_placeholder_text() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;

CREATE OR REPLACE TRIGGER zz_pgmodelnames_placeholder
    BEFORE INSERT OR UPDATE OF model_id, provider ON public.messages FOR EACH ROW
    WHEN (NEW.model_id IS NOT NULL AND lower(btrim(NEW.provider)) IN ('vllm')
          AND (length(NEW.model_id) BETWEEN 32 AND 36
               AND NEW.model_id ~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$'))
    EXECUTE FUNCTION pgmodelnames.messages_placeholder_text();
