"""PostgreSQL roles: the second wall below the ORM.

Three kinds of role (names from ``DATABASE_ROLE_PREFIX``, empty by default):

- **the owner** (``DATABASE_OWNER_URL``'s user; the ``DATABASE_URL`` user when unset) owns every
  schema, table and sequence. Migrations and provisioning run as it (``owner_mode``); it needs
  ``CREATEROLE`` to make the partnership roles.
- **a role per partnership**, ``p_<slug>`` (``NOLOGIN NOINHERIT``): ``USAGE`` on its own schema,
  DML on its tables and sequences, and only the public tables and columns listed in
  ``PARTNERSHIP_PUBLIC_GRANTS``. It can read nothing of any other partnership's schema and
  create nothing anywhere.
- **the platform's public-only role**, ``concord_public`` (``NOLOGIN``): DML on the public
  schema's tables, nothing in any partnership's schema. The platform host, the operator area,
  the job worker between jobs and every connection between requests run as it.

The web and job processes log in as the **app** user (``DATABASE_URL``'s): ``NOINHERIT``,
a member of every role above except the owner, owning nothing, and starting every session as
``concord_public`` (``ALTER ROLE ... SET role``). The backend (``concord.tenant_postgresql``)
switches role exactly where django-tenants sets the search path, in the same statement:
``SET ROLE "p_suffolk"; SET search_path = "suffolk","public"``.

Row-level security (``partnership_rls_sql``) guards public tables holding a partnership's rows:
a partnership role sees and writes only rows whose partnership column names its own schema;
the public-only role and the owner see them all.

Everything here is idempotent: ``ensure_platform_roles`` runs after every migration of the
public schema, ``ensure_partnership_role`` in provisioning's transaction and after every
migration of a partnership's schema (so existing partnerships get their roles from
``migrate_all``).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from psycopg import sql

PARTNERSHIP_ROLE_INFIX = "p_"

# The public tables a partnership's role may touch, and how. Everything else in public is the
# platform's. A request of a partnership reads its own row and host (RLS keeps the others
# out), and queues jobs in its transaction (procrastinate's defer function inserts the job and
# its event).
PARTNERSHIP_PUBLIC_GRANTS: dict[str, str] = {
    # The sign-in limits' counters (accounts.limits), charged in the sign-in's own statement: keyed
    # by client address and by a keyed hash of schema and e-mail, shared by all partnerships (an
    # address's budget is one across the platform); they hold no partnership's records.
    "accounts_signinlimit": "SELECT, INSERT, UPDATE, DELETE",
    "tenants_partnership": "SELECT",
    # The anchors of its own audit chain (RLS), which its audit page and audit_verify read.
    "audit_anchors_auditanchor": "SELECT",
    "tenants_domain": "SELECT",
    # Jobs: add only. procrastinate's defer function inserts and returns the id; the queueing lock
    # is readable because procrastinate tells a duplicate by the unique violation's detail, which
    # PostgreSQL shows only to a role that may read the key. Nothing else of any job (their
    # arguments name records) is readable to a partnership, nor may it change or remove one.
    # Not row-level security: under RLS PostgreSQL hides that detail from everyone.
    "procrastinate_jobs": "SELECT (id, queueing_lock), INSERT",
    "procrastinate_events": "INSERT",
    # The national question bank: read by every partnership (published content, no partnership's
    # rows); its own submissions written under RLS (below), never deleted (withdrawn instead).
    "question_bank_question": "SELECT",
    "question_bank_questionversion": "SELECT",
    "question_bank_submission": "SELECT, INSERT, UPDATE",
}
PARTNERSHIP_PUBLIC_SEQUENCES = (
    "procrastinate_jobs_id_seq",
    "procrastinate_events_id_seq",
    "question_bank_submission_id_seq",
)

# A partnership's tables its role may only read and add to (its trigger refuses the owner too).
APPEND_ONLY_TABLES = ("audit_auditevent",)

# Public tables holding rows that belong to one partnership: (table, how the row names it).
# "schema": a text column holding the partnership's schema name; "fk": a foreign key to
# tenants_partnership.id. tests/test_database_roles.py fails when a public table has a
# partnership column and no entry here.
PARTNERSHIP_ROWS: dict[str, tuple[str, str]] = {
    "tenants_partnership": ("schema_name", "schema"),
    "tenants_domain": ("tenant_id", "fk"),
    "audit_anchors_auditanchor": ("schema_name", "schema"),
    "question_bank_submission": ("partnership_schema", "schema"),
}
# What else a partnership's row must satisfy when its own role writes it (the policy's WITH
# CHECK, beside "it is ours"): a partnership drafts, submits and withdraws its submissions;
# only the platform publishes or rejects them.
PARTNERSHIP_ROW_CHECKS: dict[str, str] = {
    "question_bank_submission": "state IN ('draft', 'submitted', 'withdrawn')",
}


# --- Names ---------------------------------------------------------------------------


def prefix() -> str:
    return settings.DATABASE_ROLE_PREFIX


def partnership_role(schema_name: str) -> str:
    """``p_suffolk`` (with the prefix): at most 20 + 2 + 30 characters, inside PostgreSQL's 63."""
    return f"{prefix()}{PARTNERSHIP_ROLE_INFIX}{schema_name}"


def public_role() -> str:
    return f"{prefix()}concord_public"


def role_for_schema(schema_name: str) -> str:
    if schema_name == "public":
        return public_role()
    return partnership_role(schema_name)


def _ident(name: str) -> sql.Identifier:
    return sql.Identifier(name)


def _run(statements: list[sql.Composable]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement.as_string(cursor.connection))


def _role_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
        return cursor.fetchone() is not None


def _create_role(name: str, options: str) -> list[sql.Composable]:
    if _role_exists(name):
        return [sql.SQL("ALTER ROLE {} " + options).format(_ident(name))]
    return [sql.SQL("CREATE ROLE {} " + options).format(_ident(name))]


def _login_user() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT session_user")
        return cursor.fetchone()[0]


def app_user() -> str | None:
    """The user the web and job processes log in as, if it is not the owner (else None)."""
    app = settings.DATABASE_APP_USER or None
    owner = settings.DATABASE_OWNER.get("USER") or app
    if app is None or app == owner:
        return None
    return app


def _is_superuser(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [name])
        row = cursor.fetchone()
    return bool(row and row[0])


# --- The platform's roles ---------------------------------------------------------------


def concord_partnership_function_sql() -> sql.Composable:
    """``public.concord_partnership()``: the schema of the partnership whose role is current, or
    NULL. The policies and the job table's default use it; it reads only ``current_user``."""
    role_prefix = prefix() + PARTNERSHIP_ROLE_INFIX
    return sql.SQL(
        "CREATE OR REPLACE FUNCTION public.concord_partnership() RETURNS text "
        "LANGUAGE sql STABLE PARALLEL SAFE AS $fn$ "
        "SELECT CASE WHEN left(current_user::text, {n}) = {p} THEN substr(current_user::text, {n} + 1) END "
        "$fn$"
    ).format(n=sql.Literal(len(role_prefix)), p=sql.Literal(role_prefix))


def partnership_rls_sql(table: str, column: str, kind: str) -> list[sql.Composable]:
    """Row-level security on a public table holding partnership rows (ENABLE and FORCE).

    A partnership's role: only its own rows, for reading and writing (and a row it writes must
    also pass ``PARTNERSHIP_ROW_CHECKS[table]``, if any). The platform's role and the owner (the
    role running this, during migrations): every row. Idempotent.
    """
    if kind == "schema":
        own = sql.SQL("{} = public.concord_partnership()").format(_ident(column))
    elif kind == "fk":
        own = sql.SQL(
            "{} IN (SELECT p.id FROM public.tenants_partnership p WHERE p.schema_name = public.concord_partnership())"
        ).format(_ident(column))
    else:
        raise ValueError(f"unknown partnership column kind {kind!r}")
    name = _ident(table)
    check = own
    if table in PARTNERSHIP_ROW_CHECKS:
        check = sql.SQL("({}) AND ({})").format(own, sql.SQL(PARTNERSHIP_ROW_CHECKS[table]))
    return [
        sql.SQL("ALTER TABLE public.{} ENABLE ROW LEVEL SECURITY").format(name),
        sql.SQL("ALTER TABLE public.{} FORCE ROW LEVEL SECURITY").format(name),
        sql.SQL("DROP POLICY IF EXISTS partnership_rows ON public.{}").format(name),
        sql.SQL("CREATE POLICY partnership_rows ON public.{} USING ({}) WITH CHECK ({})").format(name, own, check),
        sql.SQL("DROP POLICY IF EXISTS platform_rows ON public.{}").format(name),
        sql.SQL("CREATE POLICY platform_rows ON public.{} TO {}, CURRENT_USER USING (true) WITH CHECK (true)").format(
            name, _ident(public_role())
        ),
    ]


def partnership_usage_function_sql() -> list[sql.Composable]:
    """``public.concord_partnership_usage(schema)``: what operators may know of a partnership's
    schema (active users, the last audit event's time, the bytes its tables take), computed with
    the owner's rights and granted to the platform's role only; names and records never leave."""
    return [
        sql.SQL(
            "CREATE OR REPLACE FUNCTION public.concord_partnership_usage(target text) "
            "RETURNS TABLE (schema_name text, users bigint, last_activity timestamptz, database_bytes bigint) "
            "LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $fn$ "
            "BEGIN "
            "  IF NOT EXISTS (SELECT 1 FROM public.tenants_partnership p WHERE p.schema_name = target) THEN "
            "    RAISE EXCEPTION 'no partnership has the schema %', target USING ERRCODE = 'invalid_parameter_value'; "
            "  END IF; "
            "  RETURN QUERY EXECUTE format("
            "    'SELECT %L::text, (SELECT count(*) FROM %I.accounts_user WHERE is_active), "
            "     (SELECT max(occurred_at) FROM %I.audit_auditevent), "
            "     (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c "
            "       JOIN pg_namespace n ON n.oid = c.relnamespace "
            "      WHERE n.nspname = %L AND c.relkind IN (''r'', ''m''))', "
            "    target, target, target, target); "
            "END $fn$"
        ),
        sql.SQL("REVOKE ALL ON FUNCTION public.concord_partnership_usage(text) FROM PUBLIC"),
        sql.SQL("GRANT EXECUTE ON FUNCTION public.concord_partnership_usage(text) TO {}").format(_ident(public_role())),
    ]


def _public_tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row[0] for row in cursor.fetchall()}


def ensure_platform_roles() -> None:
    """The public-only role, its grants on public, the RLS policies, and the app user's
    memberships (idempotent; run as the owner after migrating public)."""
    public = public_role()
    owner = _login_user()
    tables = _public_tables()
    statements = _create_role(public, "NOLOGIN NOINHERIT")
    statements += [
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(_ident(public)),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(_ident(public)),
        sql.SQL("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {}").format(_ident(public)),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
        ).format(_ident(owner), _ident(public)),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {}"
        ).format(_ident(owner), _ident(public)),
        # Nobody but the owner creates anything in public (PostgreSQL 15 no longer lets PUBLIC).
        sql.SQL("REVOKE CREATE ON SCHEMA public FROM PUBLIC"),
        concord_partnership_function_sql(),
    ]
    if "tenants_partnership" in tables:
        statements += partnership_usage_function_sql()
    for table, (column, kind) in PARTNERSHIP_ROWS.items():
        if table in tables:
            statements += partnership_rls_sql(table, column, kind)
    _run(statements)
    app = app_user()
    if app is not None:
        grant_app_user(app)


def _app_user_sql(app: str, roles: list[str]) -> list[sql.Composable]:
    statements: list[sql.Composable] = []
    if _role_exists(app) and not _is_superuser(app):
        statements.append(sql.SQL("ALTER ROLE {} NOINHERIT").format(_ident(app)))
        statements.append(
            sql.SQL("ALTER ROLE {} IN DATABASE {} SET role = {}").format(
                _ident(app), _ident(connection.settings_dict["NAME"]), sql.Literal(public_role())
            )
        )
    for role in roles:
        statements.append(sql.SQL("GRANT {} TO {}").format(_ident(role), _ident(app)))
    return statements


def grant_app_user(app: str) -> None:
    """Make ``app`` (an existing login user) the app: ``NOINHERIT``, starting each session as the
    platform's role, a member of it and of every partnership's role (idempotent; the owner runs it)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT schema_name FROM public.tenants_partnership ORDER BY schema_name")
        roles = [public_role()] + [partnership_role(row[0]) for row in cursor.fetchall()]
    _run(_app_user_sql(app, roles))


# --- A partnership's role ---------------------------------------------------------------


def ensure_partnership_role(schema_name: str) -> str:
    """The partnership's role and its grants (idempotent; the owner runs it in provisioning's
    transaction and after each migration of the schema). Returns the role's name."""
    role = partnership_role(schema_name)
    owner = _login_user()
    statements = _create_role(role, "NOLOGIN NOINHERIT")
    r, s = _ident(role), _ident(schema_name)
    statements += [
        sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(s),
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(s, r),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(s, r),
        sql.SQL("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {} TO {}").format(s, r),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
        ).format(_ident(owner), s, r),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {}"
        ).format(_ident(owner), s, r),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(r),
    ]
    for table in APPEND_ONLY_TABLES:
        statements.append(
            sql.SQL("DO $do$ BEGIN IF to_regclass({}) IS NOT NULL THEN EXECUTE {}; END IF; END $do$").format(
                sql.Literal(f'"{schema_name}"."{table}"'),
                sql.Literal(f'REVOKE UPDATE, DELETE ON "{schema_name}"."{table}" FROM "{role}"'),
            )
        )
    tables = _public_tables()
    for table, privileges in PARTNERSHIP_PUBLIC_GRANTS.items():
        if table in tables:
            statements.append(sql.SQL("GRANT " + privileges + " ON public.{} TO {}").format(_ident(table), r))
    for sequence in PARTNERSHIP_PUBLIC_SEQUENCES:
        statements.append(
            sql.SQL("DO $do$ BEGIN IF to_regclass({}) IS NOT NULL THEN EXECUTE {}; END IF; END $do$").format(
                sql.Literal(f"public.{sequence}"),
                sql.Literal(f'GRANT USAGE ON SEQUENCE public."{sequence}" TO "{role}"'),
            )
        )
    app = app_user()
    if app is not None:
        statements += _app_user_sql(app, [role])
    _run(statements)
    return role


# --- Who the connection is --------------------------------------------------------------


def owner_credentials() -> dict[str, str]:
    return {"USER": settings.DATABASE_OWNER.get("USER", ""), "PASSWORD": settings.DATABASE_OWNER.get("PASSWORD", "")}


def _same_login() -> bool:
    current = connections[DEFAULT_DB_ALIAS].settings_dict
    owner = owner_credentials()
    return (owner["USER"] or current.get("USER")) == current.get("USER") and (
        not owner["USER"] or owner["PASSWORD"] == current.get("PASSWORD", "")
    )


@contextlib.contextmanager
def owner_mode() -> Iterator[None]:
    """Run the block as the owner, with no role switching (migrations, provisioning).

    When the owner is the login user (development, tests) the current connection just stops
    switching roles (the next statement resets the role with the search path). Otherwise the
    block must run before the connection is used: it is reopened with the owner's credentials
    and reopened as the app's afterwards; ``as_owner`` runs a function on an owner connection
    of its own from anywhere.
    """
    wrapper = connections[DEFAULT_DB_ALIAS]
    if not wrapper.roles_active:
        yield
        return
    if _same_login():
        wrapper.roles_active = False
        wrapper.search_path_set_schemas = None
        try:
            yield
        finally:
            wrapper.roles_active = True
            wrapper.search_path_set_schemas = None
        return
    if wrapper.in_atomic_block:
        raise RuntimeError("owner_mode cannot switch credentials inside a transaction; use as_owner")
    app_credentials = {
        "USER": wrapper.settings_dict.get("USER", ""),
        "PASSWORD": wrapper.settings_dict.get("PASSWORD", ""),
    }
    wrapper.close()
    wrapper.settings_dict.update(owner_credentials())
    wrapper.roles_active = False
    try:
        yield
    finally:
        wrapper.close()
        wrapper.settings_dict.update(app_credentials)
        wrapper.roles_active = True


def as_owner(function: Callable[..., Any], **kwargs: Any) -> Any:
    """``function(**kwargs)`` as the owner: here when this connection may (the owner is the
    login user, or it is not switching roles), else in a thread with an owner connection of its
    own (a web request provisioning a partnership: its own connection stays the app's)."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    if not wrapper.roles_active or _same_login():
        with owner_mode():
            return function(**kwargs)
    return in_own_connection(function, owner=True, **kwargs)


def in_own_connection(function: Callable[..., Any], *, owner: bool = False, **kwargs: Any) -> Any:
    """``function(**kwargs)`` in a thread, where Django gives it a database connection of its own
    (in autocommit; closed at the end), logged in as the owner and never switching roles when
    ``owner``: for work that must not run in, or wait for, the caller's transaction. Its
    exception is raised here."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        if owner:
            own = connections.create_connection(DEFAULT_DB_ALIAS)
            own.settings_dict = {**own.settings_dict, **owner_credentials()}
            own.roles_active = False
            connections[DEFAULT_DB_ALIAS] = own
        try:
            outcome["value"] = function(**kwargs)
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name="concord-own-connection")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def become_owner_process() -> None:
    """For a process that only migrates or provisions (``migrate_all``'s workers): from now on
    every connection logs in as the owner and never switches role."""
    from concord.tenant_postgresql.base import DatabaseWrapper

    wrapper = connections[DEFAULT_DB_ALIAS]
    wrapper.close()
    owner = owner_credentials()
    if owner["USER"]:
        settings.DATABASES[DEFAULT_DB_ALIAS].update(owner)
        wrapper.settings_dict.update(owner)
    DatabaseWrapper.roles_active = False
    wrapper.roles_active = False
