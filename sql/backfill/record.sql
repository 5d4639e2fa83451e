-- backfill: record a name taken from a server as a machine name, so a later
-- pass may replace it with a better one, and any other name (a human's) is
-- recognised and kept.
INSERT INTO pgmodelnames.machine_names AS mn (model_uuid, name, source, endpoint)
VALUES (%(id)s::uuid, %(name)s, 'server', %(endpoint)s)
ON CONFLICT (model_uuid) DO UPDATE
   SET name = EXCLUDED.name, source = EXCLUDED.source, endpoint = EXCLUDED.endpoint, recorded_at = now();
