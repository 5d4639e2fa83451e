-- Who holds pgmodelnames' migration lock in this database (a bigint
-- advisory lock, shown in pg_locks as classid = high 32 bits, objid = low
-- 32 bits, objsubid = 1; advisory locks are per database).
-- Read after a wait for it timed out, to name the holder in the error.
SELECT a.pid,
       a.application_name,
       coalesce(a.xact_start, a.state_change, a.backend_start)::timestamptz(0)::text AS since,
       a.state
  FROM pg_catalog.pg_locks AS l
  JOIN pg_catalog.pg_stat_activity AS a ON a.pid = l.pid
 WHERE l.locktype = 'advisory'
   AND l.granted
   AND l.database = (SELECT d.oid FROM pg_catalog.pg_database AS d WHERE d.datname = current_database())
   AND l.objsubid = 1
   AND ((l.classid::bigint << 32) | l.objid::bigint) = %(key)s
 LIMIT 1;
