-- Variant nosp, applied after pgmodelnames upgrade: the trigger functions of
-- both shapes without their pinned search_path, to attribute the cost of the
-- SET (paid per call: per covered row in the row shape, per statement in the
-- statement shape, which pmn has here).
ALTER FUNCTION pgmodelnames.messages_placeholder_uuid() RESET search_path;
ALTER FUNCTION pgmodelnames.messages_placeholder_text() RESET search_path;
ALTER FUNCTION pgmodelnames.messages_placeholders_uuid_statement() RESET search_path;
ALTER FUNCTION pgmodelnames.messages_placeholders_text_statement() RESET search_path;
