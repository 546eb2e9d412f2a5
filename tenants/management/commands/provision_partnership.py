from tenants.management.commands._base import PartnershipCommand
from tenants.provisioning import partnership_provision


class Command(PartnershipCommand):
    help = "Create a partnership: its schema, host name and first partnership admin, in one transaction."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="schema name and host label, e.g. suffolk")
        parser.add_argument("--name", required=True, help='e.g. "Suffolk Community Safety Partnership"')
        parser.add_argument("--admin-email", required=True, help="the first partnership admin's e-mail address")
        parser.add_argument("--admin-name", default="", help="the first admin's full name")

    def handle(self, *args, slug, name, admin_email, admin_name, **options):
        result = partnership_provision(slug=slug, name=name, admin_email=admin_email, admin_name=admin_name)
        partnership = result.partnership
        if result.created:
            self.stdout.write(self.style.SUCCESS(f"Provisioned {partnership.name} ({partnership.schema_name})."))
        else:
            self.stdout.write(f"{partnership.name} ({partnership.schema_name}) already exists; invitation re-issued.")
        self.stdout.write(f"Invitation e-mailed to {result.admin_email}; its link (single use, expires in 72 hours):")
        self.stdout.write(f"  {result.set_password_url}")
