"""The beneficiary search by card (settings.BENEFICIARY_FACETS, campaigns/beneficiary_facets.py):
the status of each person's newest card, a search term matching a card code, and the card the
campaign page shows beside each person."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.beneficiary_facets import Facet
from cards.models import Card


class CardStatusFacet(Facet):
    name = "card_status"
    page_key = "card"
    label = _("Card")
    choices = (
        ("none", _("No card")),
        ("valid", _("Valid card")),
        ("revoked", _("Revoked card")),
        ("expired", _("Expired card")),
    )
    help_text = ("The status of the person's newest card: none (no card), valid, revoked, "
                 "expired (on the program's today).")

    def filter(self, people, *, campaign, value):
        if value == "none":
            return people.filter(~Exists(Card.objects.filter(beneficiary=OuterRef("pk"))))
        # Each person's newest card: no later card of theirs (an anti-join, not a query per row).
        newest = Card.objects.filter(campaign=campaign).exclude(
            Exists(Card.objects.filter(beneficiary=OuterRef("beneficiary"), id__gt=OuterRef("id")))
        )
        if value == "revoked":
            newest = newest.filter(revoked_at__isnull=False)
        else:
            not_expired = Q(expires_on__isnull=True) | Q(expires_on__gte=_program_today(campaign))
            newest = newest.filter(revoked_at__isnull=True)
            newest = newest.exclude(not_expired) if value == "expired" else newest.filter(
                not_expired
            )
        return people.filter(pk__in=newest.values("beneficiary_id"))

    def term_matches(self, *, campaign, term):
        # Codes are stored upper case; the part after the prefix is enough. An uncorrelated IN:
        # the campaign's matching cards are read once, not per person.
        cards = Card.objects.filter(campaign=campaign, code__endswith=term.upper())
        return Q(pk__in=cards.values("beneficiary_id"))

    def page_values(self, *, people):
        """Each person's live card, else their newest (a failed reissue leaves a newer,
        revoked card behind the one that is valid again): one query for the page."""
        shown = {}
        for card in Card.objects.filter(beneficiary__in=people).order_by("id"):
            held = shown.get(card.beneficiary_id)
            if held is None or not _live(held) or _live(card):
                shown[card.beneficiary_id] = card
        return shown


def _live(card):
    return card.revoked_at is None and card.superseded_at is None


def _program_today(campaign):
    try:
        zone = ZoneInfo(campaign.program.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return timezone.localtime(timezone.now(), zone).date()
