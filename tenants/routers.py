"""The database router: django-tenants' migration router, answering Django's per-query questions.

Django asks every router in ``DATABASE_ROUTERS`` for ``db_for_read`` or ``db_for_write`` on
every query (and ``allow_relation`` on every related assignment). django-tenants'
``TenantSyncRouter`` only answers ``allow_migrate``, so each question costs Django an
``AttributeError`` raised and caught; answering "no preference" (None) costs a call. The
outcome is Django's default either way: the instance's database, else ``default``.
"""

from __future__ import annotations

from django_tenants.routers import TenantSyncRouter


class PartnershipRouter(TenantSyncRouter):
    def db_for_read(self, model, **hints):
        return None

    def db_for_write(self, model, **hints):
        return None

    def allow_relation(self, obj1, obj2, **hints):
        return None
