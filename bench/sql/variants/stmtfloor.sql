-- Variant stmtfloor, applied after pgmodelnames upgrade: pgmodelnames'
-- statement-level trigger (AFTER INSERT ... REFERENCING NEW TABLE AS
-- new_messages FOR EACH STATEMENT) calling functions that only return NULL,
-- i.e. what any plpgsql statement trigger with a transition table costs
-- before it reads a row: every inserted row kept in the transition table,
-- one call per statement. The statement shape is what the bench schema gets
-- anyway; asking for it here fails loudly if it did not.
SELECT pgmodelnames.set_trigger_shape('statement');

CREATE OR REPLACE FUNCTION pgmodelnames.messages_placeholders_uuid_statement() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;

CREATE OR REPLACE FUNCTION pgmodelnames.messages_placeholders_text_statement() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
