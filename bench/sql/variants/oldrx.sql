-- Variant oldrx (TEXT only), applied after pgmodelnames upgrade: the trigger's
-- WHEN clause with revision 0004's UUID-shape test (length() and the full
-- case-insensitive regular expression), to compare today's test with it in
-- the same run. Same semantics, older cost.
-- The WHEN clause belongs to the row-level trigger (revision 0007 installs
-- the statement-level one on the bench schema): the row shape first.
SELECT pgmodelnames.set_trigger_shape('row');

CREATE OR REPLACE TRIGGER zz_pgmodelnames_placeholder
    BEFORE INSERT OR UPDATE OF model_id, provider ON public.messages FOR EACH ROW
    WHEN (NEW.model_id IS NOT NULL AND lower(btrim(NEW.provider)) IN ('vllm')
          AND (length(NEW.model_id) BETWEEN 32 AND 36
               AND NEW.model_id ~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$'))
    EXECUTE FUNCTION pgmodelnames.messages_placeholder_text();
