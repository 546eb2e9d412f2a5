from tenants.management.commands._base import PartnershipCommand
from tenants.provisioning import partnership_get, partnership_resume


class Command(PartnershipCommand):
    help = "Resume a suspended partnership."

    def add_arguments(self, parser):
        parser.add_argument("slug")

    def handle(self, *args, slug, **options):
        partnership = partnership_resume(partnership=partnership_get(slug))
        self.stdout.write(f"Resumed {partnership.name} ({partnership.schema_name}).")
