-- Revision 0001 down: drop the package's state. The schema itself stays
-- because Alembic's version table lives in it; "pgmodelnames uninstall"
-- drops the schema after downgrading to base.
SET LOCAL lock_timeout = '5s';

DROP FUNCTION IF EXISTS pgmodelnames.execute_with_lock_retries(text, integer, text);
DROP FUNCTION IF EXISTS pgmodelnames.is_replaceable_name(uuid, text, text);
DROP FUNCTION IF EXISTS pgmodelnames.machine_name(uuid, text, text, text);
DROP FUNCTION IF EXISTS pgmodelnames.placeholder_name(uuid, text);
DROP FUNCTION IF EXISTS pgmodelnames.is_usable_name(text);
DROP FUNCTION IF EXISTS pgmodelnames.trimmed(text);
DROP FUNCTION IF EXISTS pgmodelnames.looks_like_uuid(text);
DROP FUNCTION IF EXISTS pgmodelnames.normalized_provider(text);
DROP TABLE IF EXISTS pgmodelnames.machine_names;
DROP TABLE IF EXISTS pgmodelnames.covered_providers;
DROP TABLE IF EXISTS pgmodelnames.installation;
