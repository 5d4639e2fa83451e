-- Revision 0007 down to 0006: remove what 0006 does not have, after the
-- lock step (sql/install/lock.sql with pgmodelnames.rebuild = 'remove').
-- Then, going down to 0006 itself, 0006's schema.sql runs (its row trigger,
-- its functions) and the objects are recorded; going down to base, 0006's
-- downgrade.sql removes the rest. Rows stay: placeholders are data.

-- The statement triggers, on messages and on each of its partitions.
DO $do$
DECLARE
    target regclass;
BEGIN
    FOR target IN
        SELECT t.tgrelid::regclass
          FROM pg_catalog.pg_trigger AS t
         WHERE t.tgname = 'zz_pgmodelnames_placeholder_insert'
           AND (t.tgrelid = to_regclass('@app_schema@.messages')
                OR t.tgrelid IN (SELECT p.relid FROM pg_catalog.pg_partition_tree(to_regclass('@app_schema@.messages')) AS p))
    LOOP
        EXECUTE format('DROP TRIGGER zz_pgmodelnames_placeholder_insert ON %s', target);
    END LOOP;
END
$do$;

DROP FUNCTION IF EXISTS pgmodelnames.set_trigger_shape(text);
DROP FUNCTION IF EXISTS pgmodelnames.trigger_shape();
DROP FUNCTION IF EXISTS pgmodelnames.registry_foreign_key();
DROP FUNCTION IF EXISTS pgmodelnames.messages_tables();
DROP FUNCTION IF EXISTS pgmodelnames.messages_placeholders_uuid_statement();
DROP FUNCTION IF EXISTS pgmodelnames.messages_placeholders_text_statement();
DROP FUNCTION IF EXISTS pgmodelnames.create_placeholders(uuid[], text[], text[]);
-- (A database of pgmodelnames 0.1 is removed through here too: it may have
-- no sweep_state.)
DO $do$
BEGIN
    IF to_regclass('pgmodelnames.sweep_state') IS NOT NULL THEN
        ALTER TABLE pgmodelnames.sweep_state DROP COLUMN IF EXISTS trigger_shape;
    END IF;
END
$do$;
