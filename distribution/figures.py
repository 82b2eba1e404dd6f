"""Distribution's tiles on the program dashboard (settings.PROGRAM_DASHBOARD_FIGURES)."""

from django.utils.translation import gettext as _

from distribution.models import Message

ACCEPTED = (Message.Status.SENT, Message.Status.DELIVERED, Message.Status.READ)


def cards_distributed(*, program):
    """Cards that reached their holder: at least one message carrying the card was accepted
    by a provider. A count only: it names no one, sensitive campaigns included."""
    cards = (
        Message.objects.filter(beneficiary__campaign__program=program, status__in=ACCEPTED)
        .exclude(card__isnull=True)
        .values("card_id")
        .distinct()
    )
    return {"key": "cards_distributed", "label": _("Cards distributed"), "value": cards.count()}
