"""Migrate public, then the template, then every partnership in parallel."""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from concord.db_roles import become_owner_process
from tenants import migration_worker
from tenants.models import Partnership
from tenants.provisioning import refresh_template


class Command(BaseCommand):
    help = (
        "Migrate the public schema, the provisioning template and every partnership (in parallel). "
        "Reports per partnership; one failure does not stop the others; exits 1 if any failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--parallel", type=int, default=os.cpu_count() or 2)

    def handle(self, *args, parallel, **options):
        if parallel < 1:
            raise CommandError("--parallel must be at least 1", returncode=2)
        become_owner_process()  # migrations and the template run as the database owner
        started = time.monotonic()
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
        self.stdout.write("public: migrated")
        refresh_template()
        self.stdout.write("template: up to date")
        schemas = list(Partnership.objects.order_by("schema_name").values_list("schema_name", flat=True))
        connection.close()  # workers open their own connections

        failures = 0
        if schemas:
            context = get_context("spawn")
            with ProcessPoolExecutor(
                max_workers=parallel, mp_context=context, initializer=migration_worker.setup
            ) as pool:
                futures = [pool.submit(migration_worker.migrate_one, schema) for schema in schemas]
                for future in as_completed(futures):
                    schema, ok, detail, seconds = future.result()
                    if ok:
                        self.stdout.write(f"{schema}: ok, {detail} ({seconds:.2f}s)")
                    else:
                        failures += 1
                        self.stderr.write(f"{schema}: FAILED, {detail} ({seconds:.2f}s)")
        total = time.monotonic() - started
        self.stdout.write(
            f"{len(schemas)} partnership(s) migrated, {failures} failed, in {total:.1f}s with {parallel} process(es)."
        )
        if failures:
            raise CommandError(f"{failures} partnership(s) failed to migrate", returncode=1)
