"""``manage.py audit_verify [--partnership SLUG]``: verify audit hash chains (``tenant_apps.audit.chain``).

One line per partnership: ``suffolk: verified 1,234 events up to #1234``, or its first broken
row and why. Exit 0: every chain verified; 1: tampering found; 2: bad input (one line).
Each result is recorded for the partnership's audit page.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django_tenants.utils import get_public_schema_name

from tenant_apps.audit.chain import chain_verify
from tenants.models import Partnership


class Command(BaseCommand):
    help = "Verify each partnership's audit hash chain (or one's); exit 1 if any is broken."

    def add_arguments(self, parser):
        parser.add_argument("--partnership", metavar="SLUG", help="only this partnership (default: every one)")

    def handle(self, *args, partnership=None, **options):
        connection.set_schema_to_public()  # the platform's role lists every partnership and reads the anchors
        schemas = Partnership.objects.exclude(schema_name=get_public_schema_name()).order_by("schema_name")
        if partnership is not None:
            schemas = schemas.filter(schema_name=partnership)
            if not schemas.exists():
                raise CommandError(f"unknown partnership {partnership!r}", returncode=2)
        broken = 0
        for schema_name in list(schemas.values_list("schema_name", flat=True)):
            report = chain_verify(schema_name)
            self.stdout.write(report.line())
            broken += not report.ok
        if broken:
            raise SystemExit(1)
