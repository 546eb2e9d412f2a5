from tenants.management.commands._base import PartnershipCommand
from tenants.provisioning import partnership_get, partnership_suspend


class Command(PartnershipCommand):
    help = "Suspend a partnership: its pages and sign-ins are refused; its data is kept."

    def add_arguments(self, parser):
        parser.add_argument("slug")

    def handle(self, *args, slug, **options):
        partnership = partnership_suspend(partnership=partnership_get(slug))
        self.stdout.write(f"Suspended {partnership.name} ({partnership.schema_name}).")
