-- Removal, step 1: the lock step that follows takes every app table
-- pgmodelnames touches (its DROP TRIGGER needs ACCESS EXCLUSIVE on messages).
SELECT set_config('pgmodelnames.rebuild', 'remove', true);
