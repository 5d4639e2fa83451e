-- Install, last step: remember every object as the catalog shows it now,
-- for the doctor's drift check and the next install's plan.
SELECT pgmodelnames.record_objects();
