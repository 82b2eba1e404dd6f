from django.core.management.base import BaseCommand, CommandError

from campaigns.models import Program, Role
from campaigns.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for a program and print it alone on the last line (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("--program", required=True, help="program slug")
        parser.add_argument("--name", default="cli")
        parser.add_argument(
            "--role", choices=Role.values, default=Role.OPERATOR,
            help="operator by default; admin only when the integration needs it",
        )
        parser.add_argument(
            "--sensitive", action="store_true",
            help="may see sensitive campaigns' people, cards and files (HIV always)",
        )

    def handle(self, *args, **options):
        program = Program.objects.filter(slug=options["program"]).first()
        if program is None:
            raise CommandError(f"No program with slug {options['program']!r}.")
        _, raw_key = api_key_create(
            program=program,
            name=options["name"],
            role=options["role"],
            can_view_sensitive=options["sensitive"],
            # The server's command line: the grant is recorded (when) with no granting user.
            granted_by=None,
        )
        self.stdout.write(f"API key for {program.slug} (store it now, it is not shown again):")
        self.stdout.write(raw_key)
