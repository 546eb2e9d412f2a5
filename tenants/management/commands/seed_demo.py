"""Seed the development demo: three partnerships, an admin and two practitioners each.

The command makes the partnerships and the people (the cast and their password);
each tenant app's ``demo.py`` adds its own data, found and run in ladder order
(``tenants.demo``): directory places the people, casework adds cases, tasks sets tasks.

Idempotent: existing partnerships and users are kept; the demo password is
generated once into ``.data/demo-password`` (never in the repository) and applied
to the demo users on every run so the printed instructions always work.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from tenant_apps.accounts.models import User
from tenants.demo import Demo, demo_seed
from tenants.hosts import partnership_url
from tenants.models import Partnership
from tenants.provisioning import partnership_provision

DEMO = [
    ("suffolk", "Suffolk Community Safety Partnership", [
        ("Amira Okafor", "admin"), ("Dan Whitmore", "practitioner"), ("Priya Shah", "practitioner"),
    ]),
    ("norfolk", "Norfolk Community Safety Partnership", [
        ("Gareth Pye", "admin"), ("Hannah Lockwood", "practitioner"), ("Sam Adeyemi", "practitioner"),
    ]),
    ("staffordshire", "Staffordshire Safer Communities", [
        ("Rachel Beaumont", "admin"), ("Kieran Doyle", "practitioner"), ("Lucy Marsh", "practitioner"),
    ]),
]  # fmt: skip


def _email(full_name: str, slug: str) -> str:
    return f"{full_name.lower().replace(' ', '.')}@{slug}.example"


def demo_password() -> str:
    path = Path(settings.DEMO_PASSWORD_FILE)
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    password = "-".join(secrets.token_hex(3) for _ in range(4))
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password


class Command(BaseCommand):
    help = "Seed the development demo partnerships and users (development only)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo runs only with development settings (DEBUG on)", returncode=2)
        password = demo_password()
        lines = []
        for slug, name, people in DEMO:
            admin_name = people[0][0]
            if not Partnership.objects.filter(schema_name=slug).exists():
                partnership_provision(slug=slug, name=name, admin_email=_email(admin_name, slug), admin_name=admin_name)
                self.stdout.write(f"Provisioned {name} ({slug}).")
            partnership = Partnership.objects.get(schema_name=slug)
            with schema_context(slug):
                for full_name, role in people:
                    user, _ = User.objects.get_or_create(
                        email=_email(full_name, slug), defaults={"full_name": full_name, "role": role}
                    )
                    if not user.check_password(password):
                        user.set_password(password)
                        user.save(update_fields=["password"])
            admin, police, council = (_email(full_name, slug) for full_name, _ in people)
            places = {
                admin: ("District Council", ["Community Safety Team"]),
                police: ("Constabulary", ["Safer Neighbourhood Team", "IOM"]),
                council: ("District Council", ["ASB Team"]),
            }
            demo = Demo(slug=slug, name=name, council=council, police=police, places=places,
                        say=self.stdout.write, warn=self.stderr.write)  # fmt: skip
            demo_seed(demo)
            lines.append(f"  {partnership_url(partnership)}  " + ", ".join(_email(n, slug) for n, _ in people))
        self.stdout.write("")
        self.stdout.write("Demo partnerships (development only). Sign in with any of these e-mail addresses")
        self.stdout.write(f"and the demo password {password} (kept in .data/demo-password):")
        for line in lines:
            self.stdout.write(line)
