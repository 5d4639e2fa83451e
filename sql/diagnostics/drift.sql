-- Doctor: the objects that differ from what pgmodelnames installed (changed,
-- dropped or added outside pgmodelnames since the last install, repair or
-- change of mode or providers): one row per object, with its facts as
-- installed and as they are now (NULL: not there). Needs revision 0006 or
-- later (pgmodelnames.installed_objects); the install's plan reads it too.
WITH live AS (
@include diagnostics/object_facts.sql@
)
SELECT coalesce(live.object, recorded.object) AS object,
       recorded.facts AS installed,
       live.facts AS now
  FROM live
  FULL JOIN pgmodelnames.installed_objects AS recorded ON recorded.object = live.object
 WHERE live.facts IS DISTINCT FROM recorded.facts
 ORDER BY 1
