-- rename, before install: the model's placeholder name, the rule of
-- pgmodelnames.placeholder_name() spelled out (the function is not there
-- yet). Computed here, not in Python: lower() and [[:cntrl:]] follow the
-- database's LC_CTYPE. tests/test_naming_rules.py checks that it agrees.
SELECT 'Unknown '
    || coalesce(left(regexp_replace(nullif(lower(btrim(%(provider)s::text)), ''), '[[:cntrl:]]', '', 'g'), 40) || ' ', '')
    || 'model ' || left(%(id)s::uuid::text, 8) AS placeholder_name;
