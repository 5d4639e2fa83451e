-- Doctor: the shape of the placeholder trigger on messages (revision 0007 or
-- later; the doctor runs it only then). One row: the shape installed now, as
-- the catalog shows it (statement: zz_pgmodelnames_placeholder_insert on
-- messages; row: zz_pgmodelnames_placeholder fires on INSERT, bit 4 of
-- tgtype; none), the shape an upgrade would install (trigger_shape()) and
-- why, and the partitions of messages that lack the statement trigger.
--   sed 's/@app_schema@/"public"/g' trigger_shape.sql | psql "$DATABASE_URL"
SELECT CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_trigger AS t
                          WHERE t.tgrelid = to_regclass('@app_schema@.messages')
                            AND t.tgname = 'zz_pgmodelnames_placeholder_insert') THEN 'statement'
            WHEN EXISTS (SELECT FROM pg_catalog.pg_trigger AS t
                          WHERE t.tgrelid = to_regclass('@app_schema@.messages')
                            AND t.tgname = 'zz_pgmodelnames_placeholder' AND t.tgtype & 4 <> 0) THEN 'row'
            ELSE 'none' END AS installed,
       wanted.shape AS wanted,
       wanted.reason,
       ARRAY(SELECT c.oid::regclass::text
               FROM pg_catalog.pg_class AS c
              WHERE c.oid IN (SELECT pgmodelnames.messages_tables()) AND c.relkind IN ('r', 'p')
                AND EXISTS (SELECT FROM pg_catalog.pg_trigger AS t
                             WHERE t.tgrelid = to_regclass('@app_schema@.messages')
                               AND t.tgname = 'zz_pgmodelnames_placeholder_insert')
                AND NOT EXISTS (SELECT FROM pg_catalog.pg_trigger AS t
                                 WHERE t.tgrelid = c.oid AND t.tgname = 'zz_pgmodelnames_placeholder_insert')
              ORDER BY 1) AS partitions_without_trigger
  FROM pgmodelnames.trigger_shape() AS wanted
