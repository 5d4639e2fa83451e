-- the statement function's wrapper (SECURITY DEFINER, SET, exception block) around nothing
CREATE OR REPLACE FUNCTION pgmodelnames.messages_placeholders_uuid_statement()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    BEGIN
        NULL;
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'x';
    END;
    RETURN NULL;
END
$fn$;
