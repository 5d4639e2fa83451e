-- Variant nosp, applied after pgmodelnames upgrade: the trigger functions
-- without their pinned search_path, to attribute the cost of the SET.
ALTER FUNCTION pgmodelnames.messages_placeholder_uuid() RESET search_path;
ALTER FUNCTION pgmodelnames.messages_placeholder_text() RESET search_path;
