-- The FOREIGN KEY on messages.model_id (or on one of its partitions) that
-- references llm_models: its name, no row if there is none (pg_partition_tree()
-- lists a partitioned table and its partitions, nothing for a plain table). One query for
-- pgmodelnames.registry_foreign_key() and the drift check.
SELECT c.conname
  FROM pg_catalog.pg_constraint AS c
  JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
 WHERE c.conrelid IN (SELECT to_regclass('@app_schema@.messages')
                       UNION ALL
                       SELECT t.relid FROM pg_catalog.pg_partition_tree(to_regclass('@app_schema@.messages')) AS t)
   AND c.contype = 'f' AND c.confrelid = to_regclass('@app_schema@.llm_models') AND a.attname = 'model_id'
 ORDER BY c.conname
 LIMIT 1
