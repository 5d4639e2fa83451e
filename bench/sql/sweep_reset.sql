-- Workload 7, before each full sweep: the 5,000 orphaned model ids have no
-- placeholder again, and the sweep's high-water mark starts from the bottom.
DELETE FROM public.llm_models l USING public.bench_orphans o WHERE l.id = o.id;
DELETE FROM pgmodelnames.machine_names mn USING public.bench_orphans o WHERE mn.model_uuid = o.id;
UPDATE pgmodelnames.sweep_state SET mark_time = NULL, mark_number = NULL;
