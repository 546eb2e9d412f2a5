"""``migrate`` is django-tenants' ``migrate_schemas`` (as in django-tenants), run as the owner."""

from tenants.management.commands.migrate_schemas import Command  # noqa: F401
