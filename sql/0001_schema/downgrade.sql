-- Revision 0001 down: drop the package's state. The schema itself stays
-- because Alembic's version table lives in it; "pgmodelnames uninstall"
-- drops the schema after downgrading to base.
SET LOCAL lock_timeout = '5s';

DROP FUNCTION pgmodelnames.execute_with_lock_retries(text, integer, text);
DROP FUNCTION pgmodelnames.machine_name(uuid, text, text, text);
DROP FUNCTION pgmodelnames.placeholder_name(uuid, text);
DROP FUNCTION pgmodelnames.is_usable_name(text);
DROP FUNCTION pgmodelnames.trimmed(text);
DROP FUNCTION pgmodelnames.looks_like_uuid(text);
DROP FUNCTION pgmodelnames.normalized_provider(text);
DROP TABLE pgmodelnames.machine_names;
DROP TABLE pgmodelnames.covered_providers;
DROP TABLE pgmodelnames.installation;
