CREATE OR REPLACE FUNCTION pgmodelnames.messages_placeholders_uuid_statement()
RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM FROM new_messages AS n WHERE n.provider = 'vllm' AND NOT EXISTS (SELECT FROM public.llm_models AS l WHERE l.id = n.model_id);
    RETURN NULL;
END
$fn$;
