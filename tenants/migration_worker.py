"""Worker-process side of ``migrate_all``.

Kept free of module-level Django imports: a spawned worker unpickles these
functions before ``setup()`` has loaded the app registry.
"""

from __future__ import annotations

import io
import time


def setup() -> None:
    import django

    django.setup()
    from concord.db_roles import become_owner_process

    become_owner_process()  # migrations run as the database owner


def migrate_one(schema_name: str) -> tuple[str, bool, str, float]:
    """Migrate one partnership schema; report, never raise."""
    from django.core.management import call_command

    started = time.monotonic()
    output = io.StringIO()
    try:
        call_command(
            "migrate_schemas", schema_name=schema_name, tenant=True, interactive=False,
            verbosity=1, stdout=output, stderr=output,
        )  # fmt: skip
    except Exception as error:  # noqa: BLE001 - one partnership's failure is reported, not fatal
        message = str(error).strip().splitlines()
        detail = f"{type(error).__name__}: {message[0] if message else ''}"
        return schema_name, False, detail, time.monotonic() - started
    applied = output.getvalue().count("Applying ")
    return schema_name, True, f"{applied} migration(s) applied", time.monotonic() - started
