"""The second wall: PostgreSQL itself refuses what the partnership's role may not do (issue 11).

The test session logs in as the owner (the cluster's superuser here), and the backend switches
to ``p_suffolk``, ``p_norfolk`` or ``concord_public`` with the search path: a superuser that sets a
role has exactly that role's privileges, so every refusal below is the role's. The tests marked
"app login" connect as a real ``NOINHERIT`` login user, as production's web and job processes do.
"""

from __future__ import annotations

import psycopg
import pytest
from django.db import DEFAULT_DB_ALIAS, ProgrammingError, connection, transaction
from django_tenants.utils import schema_context
from psycopg import sql

from concord import db_roles
from concord.jobs import partnership_task

APP_LOGIN = "concord_app_test"  # a login user of the tests' own (the cluster is shared)


def _tables(schema: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename <> 'django_migrations' ORDER BY 1",
            [schema],
        )
        return [row[0] for row in cursor.fetchall()]


def _refused(statement: str, params=None) -> str:
    """Run ``statement`` in a savepoint; return PostgreSQL's error (the test fails if it ran)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)
    except ProgrammingError as error:
        return str(error)
    pytest.fail(f"PostgreSQL ran {statement!r}")


def _current_user() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        return cursor.fetchone()[0]


@pytest.fixture
def in_suffolk(suffolk, norfolk):
    connection.set_tenant(suffolk)
    assert _current_user() == "p_suffolk"
    yield
    connection.set_schema_to_public()


def test_raw_reads_and_writes_of_another_partnership_are_denied(in_suffolk, norfolk):
    tables = _tables("norfolk")
    assert len(tables) > 40  # every table of every tenant app
    for table in tables:
        name = f'"norfolk"."{table}"'
        for statement in (f"SELECT * FROM {name} LIMIT 1", f"UPDATE {name} SET id = id", f"DELETE FROM {name}"):
            error = _refused(statement)
            assert "permission denied for schema norfolk" in error, (statement, error)
    # Its own schema is fine.
    with connection.cursor() as cursor:
        cursor.execute('SELECT count(*) FROM "suffolk"."accounts_user"')
        assert cursor.fetchone()[0] >= 2


def test_ddl_is_denied_in_every_schema(in_suffolk):
    for schema in ("suffolk", "norfolk", "public"):
        error = _refused(f'CREATE TABLE "{schema}".sneaky (id int)')
        assert "permission denied for schema" in error, error
    assert "must be owner" in _refused('ALTER TABLE "suffolk".casework_profile ADD COLUMN sneaky int')
    assert "must be owner" in _refused('DROP TABLE "suffolk".audit_auditevent')
    assert "must be owner" in _refused('ALTER TABLE "suffolk".audit_auditevent DISABLE TRIGGER ALL')
    assert "permission denied" in _refused('TRUNCATE "suffolk".audit_auditevent')
    assert "permission denied" in _refused("CREATE SCHEMA sneaky")


def test_public_tables_it_only_reads_or_may_not_touch_are_denied(in_suffolk):
    for statement in (
        "UPDATE public.tenants_partnership SET name = 'x'",
        "DELETE FROM public.tenants_partnership",
        "INSERT INTO public.tenants_domain (domain, is_primary, tenant_id) VALUES ('evil.localhost', false, 1)",
        "UPDATE public.tenants_domain SET domain = 'evil.localhost'",
        "UPDATE public.procrastinate_jobs SET status = 'failed'",
        "DELETE FROM public.procrastinate_jobs",
    ):
        assert "permission denied for table" in _refused(statement), statement
    # The platform's own tables: operators, their e-mail, the template, the failed sign-ins.
    for table in ("accounts_user", "outbox_outboundemail", "tenants_templateddl", "accounts_failedsignin",
                  "audit_auditevent", "django_session"):  # fmt: skip
        assert "permission denied for table" in _refused(f"SELECT * FROM public.{table} LIMIT 1"), table


def test_a_search_path_changed_without_the_role_gets_permission_denied_not_data(in_suffolk):
    """Raw SQL that points the connection at Norfolk (a forgotten role switch) reads nothing."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET search_path = norfolk, public")
        # PostgreSQL skips a schema the role may not use: the name finds public's table, also refused.
        assert "permission denied for table accounts_user" in _refused("SELECT * FROM accounts_user")
        assert "permission denied for schema norfolk" in _refused("SELECT * FROM norfolk.accounts_user")
    # The backend's own switch (schema_context) does switch the role, and back.
    with schema_context("norfolk"):
        assert _current_user() == "p_norfolk"
        with connection.cursor() as cursor:
            cursor.execute("SELECT email FROM accounts_user")
            assert {row[0] for row in cursor.fetchall()} == {"nina@norfolk.test"}
    assert _current_user() == "p_suffolk"


def test_the_platform_role_reads_no_partnership_schema(db):
    connection.set_schema_to_public()
    assert _current_user() == "concord_public"
    for schema in ("suffolk", "norfolk"):
        assert f"permission denied for schema {schema}" in _refused(f'SELECT * FROM "{schema}".accounts_user')


def test_the_role_switch_rides_on_the_search_path_statement(suffolk, django_assert_num_queries):
    """One statement sets both: routing costs no extra round trip."""
    from django.test.utils import CaptureQueriesContext

    connection.set_tenant(suffolk)
    with CaptureQueriesContext(connection) as captured, connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    statements = [query["sql"] for query in captured.captured_queries]
    assert statements[0] == 'SET ROLE "p_suffolk"; SET search_path = "suffolk","public"'
    assert statements[1:] == ["SELECT 1"]


def test_a_failed_role_switch_outside_a_transaction_is_raised_not_ignored(committed_db):
    """Were it ignored, the next statement would run as the previous partnership (autocommit:
    nothing is aborted). Inside a transaction the failure aborts it: nothing runs either."""
    from django.db import DatabaseError

    connection.set_schema("suffolk")
    assert _current_user() == "p_suffolk"
    connection.set_schema("nosuchpartnership")
    with pytest.raises(DatabaseError, match='role "p_nosuchpartnership" does not exist'), connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
    connection.set_schema_to_public()
    assert _current_user() == "concord_public"


# --- Row-level security on public tables ------------------------------------------------------


def _public_tables_with_a_partnership_column() -> dict[str, list[str]]:
    """Every public table with a column that names a partnership: a foreign key to
    tenants_partnership, or a column called partnership, partnership_id or schema_name."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, a.attname
              FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
              JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
               AND (a.attname IN ('partnership', 'partnership_id', 'schema_name')
                    OR EXISTS (SELECT 1 FROM pg_constraint k
                                WHERE k.conrelid = c.oid AND k.contype = 'f' AND a.attnum = ANY (k.conkey)
                                  AND k.confrelid = 'public.tenants_partnership'::regclass))
             ORDER BY 1, 2
            """
        )
        found: dict[str, list[str]] = {}
        for table, column in cursor.fetchall():
            found.setdefault(table, []).append(column)
    return found


def test_every_public_table_with_a_partnership_column_has_forced_rls_and_a_policy(db):
    found = _public_tables_with_a_partnership_column()
    assert {"tenants_partnership", "tenants_domain"} <= set(found)
    with connection.cursor() as cursor:
        for table, columns in found.items():
            cursor.execute(
                "SELECT c.relrowsecurity, c.relforcerowsecurity, "
                "(SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) "
                "FROM pg_class c WHERE c.oid = ('public.' || quote_ident(%s))::regclass",
                [table],
            )
            enabled, forced, policies = cursor.fetchone()
            assert enabled and forced and policies >= 2, (
                f"public.{table} ({', '.join(columns)}) needs RLS: see db_roles"
            )
            assert table in db_roles.PARTNERSHIP_ROWS, f"public.{table}: add it to db_roles.PARTNERSHIP_ROWS"


def test_a_partnership_role_sees_only_its_own_partnership_and_host(in_suffolk):
    with connection.cursor() as cursor:
        cursor.execute("SELECT schema_name FROM public.tenants_partnership")
        assert [row[0] for row in cursor.fetchall()] == ["suffolk"]
        cursor.execute("SELECT domain FROM public.tenants_domain")
        assert [row[0] for row in cursor.fetchall()] == ["suffolk.localhost"]
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM public.tenants_partnership WHERE schema_name IN ('suffolk', 'norfolk')")
        assert cursor.fetchone()[0] == 2  # the platform sees every partnership


@partnership_task(name="tests.test_database_roles.whoami")
def whoami(*, schema_name: str) -> str:
    return _current_user()


def test_jobs_run_as_the_partnership_they_enter_and_a_partnership_only_adds_jobs(suffolk, norfolk):
    from concord.jobs import defer_for_current_partnership

    assert whoami(schema_name="suffolk") == "p_suffolk"
    assert whoami(schema_name="norfolk") == "p_norfolk"
    assert _current_user() == "concord_public"  # back to the platform's role after the job

    connection.set_tenant(suffolk)
    job_id = defer_for_current_partnership(whoami)  # in the request's transaction, as its role
    for statement in (
        "SELECT args FROM public.procrastinate_jobs",  # job arguments name records: none readable
        "SELECT task_name FROM public.procrastinate_jobs",
        "UPDATE public.procrastinate_jobs SET status = 'failed'",
        "DELETE FROM public.procrastinate_jobs",
    ):
        assert "permission denied for table procrastinate_jobs" in _refused(statement), statement
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute("SELECT args->>'schema_name' FROM public.procrastinate_jobs WHERE id = %s", [job_id])
        assert cursor.fetchone() == ("suffolk",)  # the worker (platform role) reads every job


# --- Provisioning and migrations ----------------------------------------------------------


def _has_privilege(role: str, table: str, privilege: str) -> bool:
    with db_roles.owner_mode(), connection.cursor() as cursor:  # naming the table needs its schema
        cursor.execute("SELECT has_table_privilege(%s, %s, %s)", [role, table, privilege])
        return cursor.fetchone()[0]


def test_roles_are_made_in_provisioning_transaction_and_vanish_with_its_rollback(db):
    from tenants.provisioning import partnership_provision

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        partnership_provision(slug="rolecheck", name="Role Check", admin_email="admin@rolecheck.test")
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolcanlogin, rolinherit FROM pg_roles WHERE rolname = 'p_rolecheck'")
            assert cursor.fetchone() == (False, False)  # NOLOGIN NOINHERIT
        assert _has_privilege("p_rolecheck", "rolecheck.casework_profile", "SELECT")
        assert not _has_privilege("p_rolecheck", "suffolk.casework_profile", "SELECT")
        raise Boom
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_roles WHERE rolname = 'p_rolecheck'")
        assert cursor.fetchone()[0] == 0


def test_granting_again_is_idempotent_and_restores_what_was_lost(db):
    """``migrate_all`` re-grants each existing partnership (post_migrate): a lost grant comes back."""
    connection.set_schema_to_public()
    with db_roles.owner_mode(), connection.cursor() as cursor:
        cursor.execute('REVOKE SELECT ON "suffolk".casework_profile FROM p_suffolk')
        assert not _has_privilege("p_suffolk", "suffolk.casework_profile", "SELECT")
        db_roles.ensure_partnership_role("suffolk")
        db_roles.ensure_partnership_role("suffolk")
        db_roles.ensure_platform_roles()
        db_roles.ensure_platform_roles()
    assert _has_privilege("p_suffolk", "suffolk.casework_profile", "SELECT")
    assert not _has_privilege("p_suffolk", "norfolk.casework_profile", "SELECT")


def test_role_names_carry_the_prefix_and_fit_postgresql(settings):
    settings.DATABASE_ROLE_PREFIX = "staging_"
    assert db_roles.partnership_role("a" * 30) == "staging_p_" + "a" * 30
    assert db_roles.public_role() == "staging_concord_public"
    settings.DATABASE_ROLE_PREFIX = "a" * 20
    assert len(db_roles.partnership_role("b" * 30)) <= 63


# --- The app login: NOINHERIT, a member of every role, owning nothing ------------------------


def _app_dsn() -> str:
    params = connection.settings_dict
    return psycopg.conninfo.make_conninfo(
        dbname=params["NAME"], host=params["HOST"] or "127.0.0.1", port=params["PORT"] or 5432, user=APP_LOGIN
    )


@pytest.fixture
def app_login(committed_db):
    """A real login user as production's app is (created committed; it owns nothing)."""
    with db_roles.owner_mode(), connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [APP_LOGIN])
        if cursor.fetchone() is None:
            cursor.execute(
                sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(APP_LOGIN)).as_string(cursor.connection)
            )
    with db_roles.owner_mode():
        db_roles.grant_app_user(APP_LOGIN)
    return _app_dsn()


def test_app_login_starts_as_the_platform_role_and_reaches_a_partnership_only_by_its_role(app_login):
    with psycopg.connect(app_login, autocommit=True) as conn:
        assert conn.execute("SELECT current_user, session_user").fetchone() == ("concord_public", APP_LOGIN)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute('SELECT 1 FROM "suffolk".accounts_user')
        conn.execute("RESET ROLE")
        assert conn.execute("SELECT current_user").fetchone() == ("concord_public",)  # its session default
        conn.execute("SET ROLE NONE")
        assert conn.execute("SELECT current_user").fetchone() == (APP_LOGIN,)  # NOINHERIT: nothing of its own
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute('SELECT 1 FROM "suffolk".accounts_user')
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT 1 FROM public.tenants_partnership")
        conn.execute('SET ROLE "p_suffolk"; SET search_path = "suffolk","public"')
        assert conn.execute("SELECT count(*) FROM accounts_user").fetchone()[0] >= 2
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute('SELECT 1 FROM "norfolk".accounts_user')
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SET ROLE postgres")


def test_app_login_owns_nothing_and_is_a_member_of_every_partnership_role(app_login):
    with db_roles.owner_mode(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM pg_class WHERE relowner = r.oid) "
            "     + (SELECT count(*) FROM pg_namespace WHERE nspowner = r.oid) "
            "     + (SELECT count(*) FROM pg_proc WHERE proowner = r.oid), r.rolsuper, r.rolinherit, r.rolcreaterole "
            "FROM pg_roles r WHERE r.rolname = %s",
            [APP_LOGIN],
        )
        assert cursor.fetchone() == (0, False, False, False)
        # NOINHERIT: its memberships give it nothing until it sets a role.
        for table in ("suffolk.accounts_user", "norfolk.accounts_user", "public.tenants_partnership"):
            cursor.execute("SELECT has_table_privilege(%s, %s, 'SELECT')", [APP_LOGIN, table])
            assert cursor.fetchone() == (False,), table
        cursor.execute("SELECT schema_name FROM public.tenants_partnership ORDER BY 1")
        for (schema,) in cursor.fetchall():
            cursor.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [APP_LOGIN, db_roles.partnership_role(schema)])
            assert cursor.fetchone()[0], schema


def test_a_pooled_connection_never_keeps_a_partnership_role(app_login):
    """Django's pool, one connection, partnerships alternating as in one worker: each checkout
    gets its partnership's role, and the connection goes back to the pool as the platform's."""
    from django.db import connections

    params = {**connections[DEFAULT_DB_ALIAS].settings_dict, "USER": APP_LOGIN, "PASSWORD": "", "CONN_MAX_AGE": 0}
    params["OPTIONS"] = {**params["OPTIONS"], "pool": {"min_size": 1, "max_size": 1, "timeout": 5}}
    from concord.tenant_postgresql.base import DatabaseWrapper

    wrapper = DatabaseWrapper(params, alias="roles_pool_test")
    connections["roles_pool_test"] = wrapper
    try:
        pool = wrapper.pool
        for turn in range(6):
            schema = ("suffolk", "norfolk", "public")[turn % 3]
            wrapper.set_schema(schema)
            with wrapper.cursor() as cursor:
                cursor.execute("SELECT current_user, current_setting('search_path')")
                role, path = cursor.fetchone()
            assert role == db_roles.role_for_schema(schema)
            assert path.startswith(f'"{schema}"') or path.startswith(schema)
            wrapper.close()  # back to the pool
            with pool.connection() as raw:  # the very same connection (max_size 1)
                assert raw.execute("SELECT current_user").fetchone() == ("concord_public",)
    finally:
        wrapper.close_pool()
        del connections["roles_pool_test"]


def test_three_roles_for_real_migrate_all_as_the_owner_then_serve_as_the_app(app_login):
    """As ``make run`` does: DATABASE_URL is the app login, DATABASE_OWNER_URL the owner.
    ``migrate_all`` (as the owner) gives the app its memberships back; gunicorn, logged in as the
    app, serves a sign-in and pages of both partnerships and the platform host."""
    from tests.conftest import Server, forget_used_codes, manage, project_env, subprocess_database_url

    owner_url = subprocess_database_url()
    params = connection.settings_dict
    app_url = f"postgres://{APP_LOGIN}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{params['NAME']}"
    with db_roles.owner_mode(), connection.cursor() as cursor:
        cursor.execute(f"REVOKE p_suffolk, p_norfolk FROM {APP_LOGIN}")
    env = project_env(DATABASE_URL=app_url, DATABASE_OWNER_URL=owner_url)
    result = manage("migrate_all", "--parallel", "1", env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    with db_roles.owner_mode(), connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_has_role('{APP_LOGIN}', 'p_suffolk', 'MEMBER'), "
                       f"pg_has_role('{APP_LOGIN}', 'p_norfolk', 'MEMBER')")  # fmt: skip
        assert cursor.fetchone() == (True, True)
    server = Server(env, workers=1)
    try:
        alice = server.session("suffolk.localhost")
        alice.sign_in("alice@suffolk.test")
        status, _, body = alice.get("/")
        assert status == 200 and b"Alice" in body
        status, _, body = server.get("/account/sign-in/", "norfolk.localhost")
        assert status == 200
        status, _, _ = server.get("/healthz", "localhost")
        assert status == 200
    finally:
        server.stop()
        forget_used_codes()
