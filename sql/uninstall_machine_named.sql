-- uninstall: how many llm_models rows carry a name pgmodelnames wrote (their
-- names stay). A recorded machine name that a person has since replaced no
-- longer counts.
SELECT count(*)
  FROM pgmodelnames.machine_names AS mn
  JOIN @app_schema@.llm_models AS l ON l.id = mn.model_uuid AND l.name = mn.name;
