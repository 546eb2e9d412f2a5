"""django-tenants' ``migrate_schemas``, run as the database owner (``concord.db_roles``)."""

from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand

from concord.db_roles import owner_mode


class Command(MigrateSchemasCommand):
    def handle(self, *args, **options):
        with owner_mode():
            return super().handle(*args, **options)
