-- Every measured run starts alike: no messages and only the known models, so
-- a run with unknown models creates all its placeholders again instead of
-- finding those of the previous round.
TRUNCATE public.messages;

DELETE FROM public.llm_models l
 WHERE NOT EXISTS (SELECT FROM public.bench_models b WHERE b.id = l.id);

DO $$
BEGIN
    -- only where pgmodelnames is installed
    IF to_regclass('pgmodelnames.machine_names') IS NOT NULL THEN
        TRUNCATE pgmodelnames.machine_names;
    END IF;
END
$$;
