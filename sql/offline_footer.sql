COMMIT;

@include install/history.sql@
