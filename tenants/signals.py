"""After every migration of a schema, its roles and grants (``concord.db_roles``), idempotently:
the public schema's after public's, a partnership's after its own. So a fresh database gets the
platform's roles from ``migrate``, and existing partnerships get theirs from ``migrate_all``;
tables added by later migrations are granted at once."""

from __future__ import annotations

from django.conf import settings
from django.db import connections


def grant_after_migrate(sender, using, **kwargs) -> None:
    from concord import db_roles
    from tenants.models import Partnership

    connection = connections[using]
    schema = connection.schema_name
    if schema == "public":
        db_roles.ensure_platform_roles()
    elif schema != settings.TENANT_TEMPLATE_SCHEMA and Partnership.objects.filter(schema_name=schema).exists():
        db_roles.ensure_partnership_role(schema)
