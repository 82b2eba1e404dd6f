"""Offline portals for a round: one per campaign, or one per district of a campaign."""

import shutil
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from campaigns.models import Campaign
from verification.portal import current_portal_file
from verification.selectors import beneficiaries_by_attribute


class Command(BaseCommand):
    help = (
        "Write the offline portals of campaigns into a folder: one per campaign, or with "
        "--split-by one per value of a beneficiary attribute (a district), each holding only "
        "its people's cards."
    )

    def add_arguments(self, parser):
        parser.add_argument("prefixes", nargs="*", help="campaign code prefixes")
        parser.add_argument("--program", help="every campaign of this program (slug)")
        parser.add_argument("--split-by", metavar="ATTRIBUTE",
                            help="beneficiary attribute, e.g. district: one portal per value")
        parser.add_argument("--out", default=".", help="folder to write the ZIPs into")

    def handle(self, *args, **options):
        campaigns = Campaign.objects.alive().select_related("program")
        if options["program"]:
            campaigns = campaigns.filter(program__slug=options["program"])
        elif options["prefixes"]:
            campaigns = campaigns.filter(prefix__in=options["prefixes"])
            missing = set(options["prefixes"]) - set(campaigns.values_list("prefix", flat=True))
            if missing:
                raise CommandError(f"No campaign with prefix {', '.join(sorted(missing))}.")
        else:
            raise CommandError("Name campaign prefixes, or --program <slug>.")
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        for campaign in campaigns.order_by("prefix"):
            if options["split_by"]:
                try:
                    parts = beneficiaries_by_attribute(campaign=campaign,
                                                       name=options["split_by"])
                except ValueError as exc:
                    raise CommandError(str(exc)) from exc
                if not parts:
                    raise CommandError(
                        f"{campaign.prefix}: no beneficiary has the attribute "
                        f"{options['split_by']!r}."
                    )
                for value, people in parts:
                    self._write(out, campaign, beneficiaries=people, part=value)
            else:
                self._write(out, campaign)

    def _write(self, out, campaign, **part):
        handle, name = current_portal_file(campaign=campaign, **part)
        with handle, open(out / name, "wb") as target:
            shutil.copyfileobj(handle, target)
        self.stdout.write(f"{out / name}")
