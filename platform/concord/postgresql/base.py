"""Django's PostgreSQL backend, with a pool that drops every dead connection at once.

django-tenants' backend subclasses this one (``settings.ORIGINAL_BACKEND``). The only
difference from Django 5.2's is the pool's checkout check. Django's check
(``ConnectionPool.check_connection``) rejects one dead connection at a time, and
psycopg_pool waits between rejections with a doubling back-off (0, 1, 2, 4, 8 ... s).
After PostgreSQL restarts, or an operator terminates the backends, *every* idle
connection in the pool is dead: with ten of them a request waited about 30 s and then
failed with the database up. Here the first dead connection found makes the pool check
all its idle connections at once (``ConnectionPool.check``: the dead are closed and
replaced in the background), so the request waits only for one fresh connection.
"""

from __future__ import annotations

import psycopg
from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base as postgresql


class _CheckAndDropTheDead:
    """The pool's ``check``: raise for a dead connection, after dropping every other dead one."""

    def __init__(self):
        self.pool = None

    def __call__(self, conn) -> None:
        from psycopg_pool import ConnectionPool

        try:
            ConnectionPool.check_connection(conn)
        except psycopg.Error:
            if self.pool is not None:
                self.pool.check()  # the other idle connections died with this one: drop them now
            raise


class DatabaseWrapper(postgresql.DatabaseWrapper):
    @property
    def pool(self):
        """As Django's (5.2), with ``check=_CheckAndDropTheDead()`` when health checks are on."""
        pool_options = self.settings_dict["OPTIONS"].get("pool")
        if self.alias == NO_DB_ALIAS or not pool_options:
            return None
        if self.alias not in self._connection_pools:
            if self.settings_dict.get("CONN_MAX_AGE", 0) != 0:
                raise ImproperlyConfigured("Pooling doesn't support persistent connections.")
            from psycopg_pool import ConnectionPool

            connect_kwargs = self.get_connection_params()
            connect_kwargs["autocommit"] = True  # Django sets it per connection later on
            check = _CheckAndDropTheDead() if self.settings_dict["CONN_HEALTH_CHECKS"] else None
            pool = ConnectionPool(
                kwargs=connect_kwargs,
                open=False,  # opened at the first checkout, as Django does
                configure=self._configure_connection,
                reset=getattr(type(self), "reset_pooled_connection", None),
                check=check,
                **({} if pool_options is True else pool_options),
            )
            if check is not None:
                check.pool = pool
            self._connection_pools.setdefault(self.alias, pool)
        return self._connection_pools[self.alias]
