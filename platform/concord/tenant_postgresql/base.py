"""django-tenants' backend, switching the PostgreSQL role with the search path.

Where django-tenants issues ``SET search_path`` (lazily, at the first statement after the
schema changed, or after a rollback or reconnection discarded it), this backend sends
``SET ROLE "p_suffolk"; SET search_path = "suffolk","public"`` in the same statement: one round
trip, as before. The public schema goes with the platform's public-only role (``concord_public``),
so a connection serving the platform host, an operator or a job between partnerships holds no
partnership's privileges. ``concord.db_roles`` says which role is which and makes them.

In owner mode (migrations, provisioning: ``db_roles.owner_mode``) the connection stops switching:
the statement becomes ``RESET ROLE; SET search_path = ...``.

django-tenants ignores a failure of its ``SET``, trusting that the transaction is aborted and the
next statement will fail too. Outside a transaction nothing is aborted: the next statement would
run with the previous schema and role, another partnership's. Here such a failure is raised.
"""

from __future__ import annotations

import django.db.utils
import psycopg
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS
from django.db.backends.base.base import NO_DB_ALIAS
from django_tenants.postgresql_backend import base as tenants_base
from django_tenants.utils import get_limit_set_calls, quote_schema_name

# Read once: a settings read costs an AttributeError inside LazyObject, on every cursor.
_LIMIT_SET_CALLS = get_limit_set_calls()


class DatabaseWrapper(tenants_base.DatabaseWrapper):
    # Class default from settings; owner_mode and become_owner_process change it.
    roles_active: bool = settings.DATABASE_ROLES

    def __init__(self, settings_dict, alias=DEFAULT_DB_ALIAS):
        # The connection without a database (creating and dropping databases) switches nothing:
        # on a fresh cluster the roles do not exist yet.
        self.roles_active = type(self).roles_active and alias != NO_DB_ALIAS
        super().__init__(settings_dict, alias)

    @classmethod
    def reset_pooled_connection(cls, conn) -> None:
        """The pool's ``reset``: a connection going back to the pool keeps no partnership's role
        and no search path (the next checkout sets both with its first statement)."""
        from concord.db_roles import public_role

        role = f"SET ROLE {quote_schema_name(public_role())}" if cls.roles_active else "RESET ROLE"
        conn.execute(f"{role}; RESET search_path")

    def role_statement(self) -> str:
        """The ``SET ROLE`` that goes with the current schema (``RESET ROLE`` in owner mode)."""
        from concord.db_roles import role_for_schema

        if not self.roles_active:
            return "RESET ROLE"
        return f"SET ROLE {quote_schema_name(role_for_schema(self.schema_name))}"

    def _handle_search_path(self, cursor=None):
        if self._setting_search_path:
            return  # obtaining the cursor below re-entered _cursor()
        if _LIMIT_SET_CALLS and self.search_path_set_schemas:
            return
        if not self.schema_name:
            raise ImproperlyConfigured("Database schema not set. Did you forget to call set_schema() or set_tenant()?")
        search_paths = self._get_cursor_search_paths()
        statement = "{}; SET search_path = {}".format(
            self.role_statement(), ",".join(quote_schema_name(s) for s in search_paths)
        )
        self._setting_search_path = True
        own_cursor = cursor is None
        cursor_for_search_path = self.connection.cursor() if own_cursor else cursor
        try:
            with self.wrap_database_errors:
                cursor_for_search_path.execute(statement)
        except django.db.utils.DatabaseError:
            self.search_path_set_schemas = None
            if self.connection.info.transaction_status != psycopg.pq.TransactionStatus.INERROR:
                raise  # nothing aborted: the next statement would run as the previous partnership
        else:
            self.search_path_set_schemas = search_paths
        finally:
            self._setting_search_path = False
            if own_cursor:
                cursor_for_search_path.close()
