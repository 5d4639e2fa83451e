-- One change, in a transaction of its own that never sees the app's schemas
-- on the search_path.
BEGIN;
SET LOCAL search_path = pg_catalog, pg_temp;
@body@
COMMIT;
