"""Partnerships (tenants) and the host names that serve them. Public schema only."""

from __future__ import annotations

from django.db import models
from django_tenants.models import DomainMixin, TenantMixin


class Partnership(TenantMixin):
    """A community-safety partnership or scheme: one PostgreSQL schema.

    ``schema_name`` is the partnership's slug and the first label of its host
    name. Schemas are created by ``tenants.provisioning`` (never by ``save()``),
    which builds the schema, this row, its domain and first admin in one
    transaction.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created = models.DateTimeField(auto_now_add=True)
    status_changed = models.DateTimeField(auto_now_add=True)

    auto_create_schema = False  # provisioning owns schema creation
    auto_drop_schema = False

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def slug(self) -> str:
        return self.schema_name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class Domain(DomainMixin):
    """A host name that serves one partnership (``<slug>.<PLATFORM_DOMAIN>``)."""

    def __str__(self) -> str:
        return self.domain


class PublicSite:
    """Stands in for ``request.tenant`` on the bare platform domain (public schema)."""

    schema_name = "public"
    name = "Concord"
    status = Partnership.Status.ACTIVE
    is_public = True

    def get_tenant_type(self):  # django-tenants protocol
        return None


class TemplateDDL(models.Model):
    """Schema-only DDL of the migrated template schema, for one set of migrations.

    ``migration_key`` hashes the tenant apps' migration names on disk: a new
    migration gives a new key, and the template is migrated and dumped again.
    """

    migration_key = models.CharField(max_length=64, unique=True)
    ddl = models.TextField()
    migrations = models.JSONField()
    seeded_tables = models.JSONField(default=list)  # tables whose rows migrations wrote
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"template DDL {self.migration_key[:12]}"
