-- Variant floor, applied after pgmodelnames upgrade: pgmodelnames' row-level
-- trigger and WHEN clause calling functions that only return NEW, i.e. what
-- any plpgsql row trigger costs before it does any work. The bench schema
-- has no FOREIGN KEY, so the row shape is forced first.
SELECT pgmodelnames.set_trigger_shape('row');

CREATE OR REPLACE FUNCTION pgmodelnames.messages_placeholder_uuid() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;

CREATE OR REPLACE FUNCTION pgmodelnames.messages_placeholder_text() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
