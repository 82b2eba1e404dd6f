from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from campaigns.models import Program
from campaigns.services import program_create


class Command(BaseCommand):
    help = "Create a program (tenant) with an initial quota grant."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--quota", type=int, default=0)
        parser.add_argument("--country", default="SN")
        parser.add_argument("--timezone", default="Africa/Dakar")

    def handle(self, *args, **options):
        if Program.objects.filter(slug=options["slug"]).exists():
            raise CommandError(f"A program with slug {options['slug']!r} already exists.")
        try:
            program = program_create(
                slug=options["slug"],
                name=options["name"],
                quota=options["quota"],
                country=options["country"],
                timezone_name=options["timezone"],
            )
        except ValidationError as exc:
            problems = "; ".join(
                f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items()
            )
            raise CommandError(problems) from None
        self.stdout.write(
            f"Created program {program.slug} (id {program.pk}), quota {options['quota']}"
        )
