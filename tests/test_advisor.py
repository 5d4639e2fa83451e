"""What Supabase's database advisor (its security lints) would say about
pgmodelnames' objects, checked from the catalog in our own words, on the
upgraded Supabase-style schema: nothing.

- every function we install pins its search_path (a function without one
  resolves names through the caller's search_path);
- no view of ours reads with its owner's rights (security_invoker is on, so
  row-level security applies to every reader);
- no SECURITY DEFINER function of ours can be called by the API roles
  (anon, authenticated) or by PUBLIC;
- nothing in the pgmodelnames schema is reachable by the API roles, and each
  of its tables with row-level security states its access as a policy.
"""

from __future__ import annotations

import pytest

API_ROLES = ("anon", "authenticated")

OURS = """
    SELECT p.oid, p.oid::regprocedure::text AS signature, p.prosecdef, p.proconfig
      FROM pg_proc p
     WHERE p.pronamespace = 'pgmodelnames'::regnamespace
        OR (p.pronamespace = 'public'::regnamespace AND p.proname = 'model_display_name')
"""


@pytest.fixture
def upgraded(make_db):
    db = make_db("supabase", installed=True)
    db.execute("SELECT pgmodelnames.set_covered_providers(ARRAY['vllm', 'ollama'])")  # every code path installed
    return db


def test_every_function_pins_its_search_path(upgraded):
    functions = upgraded.query(f"SELECT signature, proconfig FROM ({OURS}) f")
    assert len(functions) >= 15  # the check looked at our functions, not at nothing
    unpinned = [sig for sig, config in functions
                if not any(c.startswith("search_path=") for c in (config or []))]
    assert unpinned == []


def test_no_view_of_ours_bypasses_row_level_security(upgraded):
    views = upgraded.query("""
        SELECT c.oid::regclass::text, coalesce(c.reloptions, '{}')
          FROM pg_class c
         WHERE c.relkind = 'v'
           AND (c.relnamespace = 'pgmodelnames'::regnamespace OR c.oid = 'public.model_display_names'::regclass)""")
    assert [v for v, _ in views] == ["model_display_names"]
    assert all("security_invoker=true" in options for _, options in views)


@pytest.mark.parametrize("role", [*API_ROLES, "public"])
def test_no_definer_function_is_callable_by_the_api(upgraded, role):
    definers = upgraded.query(f"SELECT signature FROM ({OURS}) f WHERE prosecdef")
    assert definers, "the trigger and guard functions are SECURITY DEFINER"
    if role == "public":
        exposed = upgraded.query(f"""
            SELECT signature FROM ({OURS}) f
             WHERE prosecdef AND EXISTS (SELECT FROM aclexplode(coalesce((SELECT proacl FROM pg_proc WHERE oid = f.oid),
                                                                          acldefault('f', (SELECT proowner FROM pg_proc WHERE oid = f.oid))))
                                          AS a WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')""")
    else:
        exposed = upgraded.query(f"SELECT signature FROM ({OURS}) f WHERE prosecdef "
                                 "AND has_function_privilege(%s, f.oid, 'EXECUTE')", (role,))
    assert exposed == []


@pytest.mark.parametrize("role", API_ROLES)
def test_the_bookkeeping_is_out_of_the_apis_reach(upgraded, role):
    assert upgraded.value("SELECT has_schema_privilege(%s, 'pgmodelnames', 'USAGE')", (role,)) is False
    readable = upgraded.query("""
        SELECT c.relname FROM pg_class c
         WHERE c.relnamespace = 'pgmodelnames'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'p')
           AND (has_table_privilege(%s, c.oid, 'SELECT') OR has_table_privilege(%s, c.oid, 'INSERT'))""",
                              (role, role))
    assert readable == []


def test_every_bookkeeping_table_with_rls_states_a_policy(upgraded):
    silent = upgraded.query("""
        SELECT c.relname FROM pg_class c
         WHERE c.relnamespace = 'pgmodelnames'::regnamespace AND c.relkind = 'r' AND c.relrowsecurity
           AND NOT EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = c.oid)""")
    tables = upgraded.value("""SELECT count(*) FROM pg_class c
                                WHERE c.relnamespace = 'pgmodelnames'::regnamespace AND c.relkind = 'r'
                                  AND c.relrowsecurity""")
    assert tables >= 3 and silent == []
