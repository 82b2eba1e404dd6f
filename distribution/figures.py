"""Distribution's figures for the pages below it: the program dashboard's tiles
(settings.PROGRAM_DASHBOARD_FIGURES) and a campaign's metrics (settings.CAMPAIGN_METRICS)."""

from django.db import connection
from django.utils.translation import gettext as _

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

# One pass: each person's messages of the campaign (dispatches and single sends alike) and
# their rows in the campaign's dispatches, folded into one line per person, then counted.
_CAMPAIGN_SQL = """
WITH sent AS (
    SELECT beneficiary_id,
           bool_or(status = ANY(%(accepted)s)) AS ok,
           bool_or(status = ANY(%(pending)s)) AS open
    FROM {message} WHERE campaign_id = %(campaign)s GROUP BY beneficiary_id
), planned AS (
    SELECT r.beneficiary_id,
           bool_or(r.status = 'skipped') AS skipped,
           bool_or(r.status = 'queued' AND r.tries > 0 AND d.status <> 'done') AS retry
    FROM {recipient} r JOIN {dispatch} d ON d.id = r.dispatch_id
    WHERE d.campaign_id = %(campaign)s GROUP BY r.beneficiary_id
), person AS (
    SELECT coalesce(s.ok, false) AS ok, s.open, s.beneficiary_id IS NOT NULL AS contacted,
           coalesce(p.skipped, false) AS skipped, coalesce(p.retry, false) AS retry
    FROM sent s FULL JOIN planned p ON p.beneficiary_id = s.beneficiary_id
)
SELECT count(*) FILTER (WHERE contacted),
       count(*) FILTER (WHERE ok),
       count(*) FILTER (WHERE contacted AND NOT ok AND NOT open AND NOT retry),
       count(*) FILTER (WHERE skipped AND NOT ok),
       count(*) FILTER (WHERE retry AND NOT ok)
FROM person
"""


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
    sql = _CAMPAIGN_SQL.format(message=Message._meta.db_table,
                               recipient=DispatchRecipient._meta.db_table,
                               dispatch=Dispatch._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"campaign": campaign.pk, "accepted": [str(s) for s in ACCEPTED],
                             "pending": [str(s) for s in PENDING]})
        contacted, succeeded, failed, skipped, to_retry = cursor.fetchone()
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
