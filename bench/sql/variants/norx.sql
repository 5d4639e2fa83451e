-- Variant norx (TEXT only), applied after pgmodelnames upgrade: the WHEN
-- clause tests the length instead of looks_like_uuid(), to attribute the
-- regex's cost. Unsafe (a 36-character non-UUID id would fail the cast):
-- never for a real database.
-- The WHEN clause belongs to the row-level trigger (revision 0007 installs
-- the statement-level one on the bench schema): the row shape first.
SELECT pgmodelnames.set_trigger_shape('row');

CREATE OR REPLACE TRIGGER zz_pgmodelnames_placeholder
    BEFORE INSERT OR UPDATE OF model_id, provider ON public.messages FOR EACH ROW
    WHEN (NEW.model_id IS NOT NULL AND lower(btrim(NEW.provider)) IN ('vllm')
          AND length(NEW.model_id) = 36)
    EXECUTE FUNCTION pgmodelnames.messages_placeholder_text();
