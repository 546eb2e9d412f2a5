"""A throwaway partnership seeded with the demo casework, and gunicorn pointed at the test's moto.

Shared by the tests that serve the project from real gunicorn processes against a whole
partnership (the browser walk-through, the frozen-storage test):

    with demo_partnership(slug="walkthrough", name="...", practitioner=..., police=...) as priya_secret:
        ...                                   # committed; dropped afterwards, whatever happened
    env = project_env(**s3_launcher_env(s3))
    subprocess.Popen([sys.executable, "-c", GUNICORN_WITH_S3, ...gunicorn arguments...], env=env)
"""

from __future__ import annotations

import contextlib
import json
import textwrap

from django.db import connection
from django_tenants.utils import schema_context

from tests.conftest import PASSWORD, enrol_authenticator

# gunicorn with the documents storage pointed at the test's moto. The test settings fix
# AWS_S3_ENDPOINT_URL (to a closed port), so the environment cannot override it: the
# settings are changed here, before gunicorn forks its workers (which inherit them).
GUNICORN_WITH_S3 = textwrap.dedent(
    """
    import json, os, sys
    import django
    from django.conf import settings
    django.setup()
    s3 = json.loads(os.environ["CONCORD_TEST_S3"])
    settings.AWS_S3_ENDPOINT_URL = s3["endpoint_url"]
    settings.AWS_STORAGE_BUCKET_NAME = s3["bucket"]
    settings.STORAGES = {**settings.STORAGES, "documents": {
        "BACKEND": "tenants.storage.PartnershipS3Storage",
        "OPTIONS": {"endpoint_url": s3["endpoint_url"], "bucket_name": s3["bucket"],
                    "access_key": "testing", "secret_key": "testing"}}}
    from gunicorn.app.wsgiapp import run
    sys.argv = ["gunicorn", *sys.argv[1:]]
    run()
    """
)


def s3_launcher_env(s3) -> dict[str, str]:
    """The environment ``GUNICORN_WITH_S3`` reads: the fixture's moto endpoint and bucket."""
    return {"CONCORD_TEST_S3": json.dumps({"endpoint_url": s3.endpoint_url, "bucket": s3.bucket})}


def drop_partnership(slug: str) -> None:
    """Remove a throwaway partnership: its schema, queued jobs, domain and row."""
    from concord.db_roles import owner_mode
    from tenants.models import Domain, Partnership

    connection.set_schema_to_public()
    with owner_mode(), connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{slug}" CASCADE')
        cursor.execute("DELETE FROM procrastinate_jobs WHERE args->>'schema_name' = %s", [slug])
    Domain.objects.filter(tenant__schema_name=slug).delete()
    Partnership.objects.filter(schema_name=slug).delete()


@contextlib.contextmanager
def demo_partnership(*, slug: str, name: str, practitioner: str, police: str):
    """Provision ``slug`` (committed), with Priya (``practitioner``, council ASB Team, the cast's
    password and an authenticator) and Pat (``police``, Safer Neighbourhood Team), and the demo
    casework and tasks (every app's demo but its photos); yields Priya's authenticator secret
    inside the partnership's schema. The partnership is dropped afterwards."""
    from tenant_apps.accounts.models import User
    from tenants.demo import Demo, demo_seed
    from tenants.models import Partnership
    from tenants.provisioning import partnership_provision

    drop_partnership(slug)
    try:
        partnership_provision(slug=slug, name=name, admin_email=f"admin@{slug}.test", admin_name="Ada Admin")
        Partnership.objects.filter(schema_name=slug).update(status="active")
        with schema_context(slug):
            priya = User.objects.create(email=practitioner, full_name="Priya Shah", role="practitioner")
            priya.set_password(PASSWORD)
            priya.save()
            User.objects.create(email=police, full_name="Pat Doyle", role="practitioner")
            places = {
                practitioner: ("District Council", ["ASB Team"]),
                police: ("Constabulary", ["Safer Neighbourhood Team"]),
            }
            said: list[str] = []
            demo_seed(Demo(slug=slug, name=name, council=practitioner, police=police, places=places,
                           files=False, say=said.append))  # fmt: skip
            assert said == [f"Added demo casework to {name}."]
            yield enrol_authenticator(priya)
    finally:
        drop_partnership(slug)
