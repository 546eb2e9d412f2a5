from django.core.management.base import BaseCommand, CommandError

from tenants.provisioning import ProvisioningError


class Error(CommandError):
    """Bad input: one line on stderr, exit code 2, nothing changed."""

    def __init__(self, message: str):
        super().__init__(message, returncode=2)


class PartnershipCommand(BaseCommand):
    """Turns ProvisioningError into a one-line error with exit code 2."""

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except ProvisioningError as error:
            raise Error(str(error)) from None
