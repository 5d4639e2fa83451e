CREATE OR REPLACE FUNCTION pgmodelnames.messages_placeholders_uuid_statement()
RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM 1;
    RETURN NULL;
END
$fn$;
