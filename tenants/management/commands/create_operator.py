from django.core.management.base import BaseCommand, CommandError

from concord.operators.services import OperatorError, operator_create


class Command(BaseCommand):
    help = (
        "Create a platform operator (public schema, no password yet) and print their single-use "
        "set-password link; the link is also e-mailed to them."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="the operator's e-mail address; they sign in with it")
        parser.add_argument("--name", required=True, help='their full name, e.g. "Olu Operator"')

    def handle(self, *args, email, name, **options):
        try:
            user, link = operator_create(email=email, full_name=name)
        except OperatorError as error:
            raise CommandError(str(error), returncode=2) from None
        self.stdout.write(self.style.SUCCESS(f"Created platform operator {user.email}."))
        self.stdout.write("Set-password link (single use, expires in 72 hours; also e-mailed to them):")
        self.stdout.write(f"  {link}")
        self.stdout.write(
            "They then set up an authenticator app, and sign in at /account/sign-in/ on the platform domain."
        )
