-- rename: the model now has a human name, which pgmodelnames never replaces.
DELETE FROM pgmodelnames.machine_names WHERE model_uuid = %(id)s;
