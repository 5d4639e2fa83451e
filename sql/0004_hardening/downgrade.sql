-- Revision 0004 down: remove the stated policies and the inlining helper,
-- and unpin the search_path of the functions that had none before. The
-- migration then replays 0003_placeholders/upgrade.sql (idempotent), which
-- restores that revision's trigger functions and WHEN clause.
SET LOCAL lock_timeout = '5s';

DO $unpolicies$
DECLARE
    bookkeeping text;
BEGIN
    FOREACH bookkeeping IN ARRAY ARRAY['installation', 'covered_providers', 'machine_names'] LOOP
        IF to_regclass(format('pgmodelnames.%I', bookkeeping)) IS NOT NULL THEN
            PERFORM pgmodelnames.execute_with_lock_retries(
                format('DROP POLICY IF EXISTS pgmodelnames_owner_only ON pgmodelnames.%I', bookkeeping));
        END IF;
    END LOOP;
END
$unpolicies$;

DO $unpin$
DECLARE
    fn regprocedure;
BEGIN
    FOR fn IN
        SELECT f FROM unnest(ARRAY[
            to_regprocedure('pgmodelnames.normalized_provider(text)'),
            to_regprocedure('pgmodelnames.looks_like_uuid(text)'),
            to_regprocedure('pgmodelnames.trimmed(text)'),
            to_regprocedure('pgmodelnames.is_usable_name(text)'),
            to_regprocedure('pgmodelnames.placeholder_name(uuid, text)'),
            to_regprocedure('pgmodelnames.machine_name(uuid, text, text, text)'),
            to_regprocedure('pgmodelnames.is_replaceable_name(uuid, text, text)'),
            to_regprocedure('@app_schema_literal@.model_display_name(uuid, text)'),
            to_regprocedure('@app_schema_literal@.model_display_name(text, text)')]) AS f
         WHERE f IS NOT NULL
    LOOP
        EXECUTE format('ALTER FUNCTION %s RESET search_path', fn);
    END LOOP;
END
$unpin$;

DROP FUNCTION IF EXISTS pgmodelnames.uuid_shape_test(text);
-- Release the bookkeeping's locks before 0003's upgrade re-creates the
-- trigger on messages (an app insert may be waiting for them).
COMMIT AND CHAIN;
SET LOCAL lock_timeout = '5s';
