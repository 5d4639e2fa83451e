-- The placeholder trigger's shape a variant database ended up with
-- (revision 0007): 'statement' or 'row', and why.
SELECT shape, reason FROM pgmodelnames.trigger_shape()
