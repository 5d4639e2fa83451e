-- Doctor: what the installed package records about itself. One row.
-- Needs pgmodelnames installed (revision 0001 or later): the doctor runs it
-- only when pgmodelnames.installation exists. No app schema to fill in:
--   psql "$DATABASE_URL" -f installation_state.sql
SELECT i.app_schema,
       i.installed_at,
       (SELECT max(v.version_num) FROM pgmodelnames.alembic_version v)  AS revision,
       (SELECT coalesce(array_agg(p.provider ORDER BY p.provider), '{}')
          FROM pgmodelnames.covered_providers p)                       AS covered_providers,
       (SELECT count(*) FROM pgmodelnames.machine_names)               AS machine_names_recorded
  FROM pgmodelnames.installation i;
