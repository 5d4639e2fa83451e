"""A snapshot of the database objects the package can touch, for comparing
two databases (offline script vs online upgrade, before vs after a round trip,
before vs after a failed apply): objects, definitions (with their settings),
privileges, comments and owners."""

from __future__ import annotations

SNAPSHOT_QUERIES = {
    "schemas": """
        SELECT nspname, pg_get_userbyid(nspowner), coalesce(nspacl::text, ''),
               coalesce(obj_description(oid, 'pg_namespace'), '')
          FROM pg_namespace
         WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY 1""",
    "relations": """
        SELECT n.nspname, c.relname, c.relkind, coalesce(c.reloptions::text, ''),
               c.relrowsecurity, coalesce(c.relacl::text, ''), pg_get_userbyid(c.relowner),
               coalesce(obj_description(c.oid, 'pg_class'), '')
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
           AND c.relkind IN ('r', 'v', 'p', 'm')
         ORDER BY 1, 2""",
    "columns": """
        SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               coalesce(pg_get_expr(d.adbin, d.adrelid), ''), coalesce(col_description(c.oid, a.attnum), '')
          FROM pg_attribute a
          JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
          LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
           AND c.relkind IN ('r', 'v', 'p') AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY 1, 2, 3""",
    "constraints": """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated,
               coalesce(obj_description(oid, 'pg_constraint'), '')
          FROM pg_constraint WHERE connamespace::regnamespace::text NOT LIKE 'pg\\_%'
           AND connamespace::regnamespace::text <> 'information_schema' ORDER BY 1, 2""",
    "functions": """
        SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid), coalesce(p.proacl::text, ''),
               coalesce(obj_description(p.oid, 'pg_proc'), ''), pg_get_userbyid(p.proowner)
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' ORDER BY 1""",
    "views": """
        SELECT c.oid::regclass::text, pg_get_viewdef(c.oid), coalesce(obj_description(c.oid, 'pg_class'), '')
          FROM pg_class c WHERE c.relkind = 'v'
           AND c.relnamespace::regnamespace::text NOT LIKE 'pg\\_%'
           AND c.relnamespace::regnamespace::text <> 'information_schema' ORDER BY 1""",
    "triggers": """
        SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid), tgenabled,
               coalesce(obj_description(oid, 'pg_trigger'), '')
          FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2""",
    "policies": """
        SELECT schemaname, tablename, policyname, cmd, coalesce(qual, ''), coalesce(with_check, '')
          FROM pg_policies ORDER BY 1, 2, 3""",
}


def snapshot(db) -> dict[str, list[tuple]]:
    return {name: db.query(sql) for name, sql in SNAPSHOT_QUERIES.items()}


def app_rows(db) -> dict[str, list[tuple]]:
    """Every row of the app's tables, as text, in a stable order."""
    return {
        table: db.query(f"SELECT t::text FROM public.{table} t ORDER BY t::text")
        for table in ("llm_models", "messages")
    }


def without_cli_history(catalog: dict) -> dict:
    """A snapshot but the Supabase CLI's own schema (supabase_migrations), which only it writes."""
    return {kind: [row for row in rows if "supabase_migrations" not in str(row)] for kind, rows in catalog.items()}
