"""Distribution's figures for the pages below it: the program dashboard's tiles
(settings.PROGRAM_DASHBOARD_FIGURES) and a campaign's metrics (settings.CAMPAIGN_METRICS)."""

from django.db.models import Count, Exists, OuterRef, Q
from django.utils.translation import gettext as _

from campaigns.models import Beneficiary
from distribution.models import Dispatch, DispatchRecipient, Message

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


PENDING = (Message.Status.PENDING, Message.Status.SENDING)

def campaign_distribution_metrics(*, campaign, metrics):
    """The campaign's distribution figures (settings.CAMPAIGN_METRICS), counted per person
    over every dispatch and single send of the campaign:

    - contacted: people with at least one message attempt;
    - succeeded: people with at least one message a provider accepted (sent, delivered, read);
    - failed: contacted people without success, none of whose attempts is still pending, and
      not queued for a retry (so failed and to_retry never overlap);
    - skipped: people a dispatch skipped (opted out, no consent, no phone, no card, card
      revoked) who have no successful message;
    - to_retry: people without success waiting in a running or paused dispatch for another
      attempt;
    - contact_rate: contacted / beneficiaries; success_rate: succeeded / contacted (0 to 1,
      4 decimals; null when the divisor is 0).
    Counts only: they name no one, sensitive campaigns included."""
    messages = Message.objects.filter(campaign=campaign, beneficiary=OuterRef("pk"))
    planned = DispatchRecipient.objects.filter(dispatch__campaign=campaign,
                                               beneficiary=OuterRef("pk"))
    # One statement, portable (PostgreSQL and the laptop's SQLite): a line per person.
    people = Beneficiary.objects.filter(campaign=campaign).annotate(
        has_message=Exists(messages),
        has_success=Exists(messages.filter(status__in=ACCEPTED)),
        has_open=Exists(messages.filter(status__in=PENDING)),
        was_skipped=Exists(planned.filter(status=DispatchRecipient.Status.SKIPPED)),
        awaits_retry=Exists(planned.filter(status=DispatchRecipient.Status.QUEUED, tries__gt=0)
                     .exclude(dispatch__status=Dispatch.Status.DONE)),
    )
    figures = people.aggregate(
        contacted=Count("pk", filter=Q(has_message=True)),
        succeeded=Count("pk", filter=Q(has_success=True)),
        failed=Count("pk", filter=Q(has_message=True, has_success=False, has_open=False,
                                         awaits_retry=False)),
        skipped=Count("pk", filter=Q(was_skipped=True, has_success=False)),
        to_retry=Count("pk", filter=Q(awaits_retry=True, has_success=False)),
    )
    contacted, succeeded = figures["contacted"], figures["succeeded"]
    failed, skipped, to_retry = figures["failed"], figures["skipped"], figures["to_retry"]
    return {
        "contacted": contacted,
        "succeeded": succeeded,
        "failed": failed,
        "skipped": skipped,
        "to_retry": to_retry,
        "contact_rate": _rate(contacted, metrics["beneficiaries"]),
        "success_rate": _rate(succeeded, contacted),
    }


def _rate(part, whole):
    return round(part / whole, 4) if whole else None
