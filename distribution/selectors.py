"""Reads of the send log: the filtered, program-scoped message list behind the logs API, its
CSV export and the campaign page's table."""

from datetime import datetime, time, timedelta

from django.db.models import F
from django.utils.translation import gettext as _

from campaigns.access import people_visible
from distribution.dispatch.send_window import program_zone
from distribution.models import Dispatch, Message
from distribution.providers.error_labels import error_detail_text, error_label

LOG_COLUMNS = (
    "id", "created_at", "campaign_id", "dispatch_id", "beneficiary_id", "external_id",
    "card_code", "channel", "wallet_pass",
    "attempt", "status", "recipient", "provider_message_id", "error_code", "error_detail",
    "sent_at", "delivered_at", "read_at", "failed_at",
)


def message_log(*, access, filters):
    """The caller's messages, newest first. `filters` (already validated): channel, status,
    campaign, dispatch, beneficiary, external_id (the beneficiary's enrollment id, exact),
    date_from, date_to (dates in the program's time zone).

    Members without the sensitive-data grant do not see sensitive campaigns' messages.
    """
    rows = people_visible(access, Message.objects.for_program(access.program)
                          .select_related("card")
                          .annotate(external_id=F("beneficiary__external_id"))
                          .order_by("-created_at", "-id"))
    for name, lookup in (("channel", "channel"), ("campaign", "campaign_id"),
                         ("dispatch", "dispatch_id"), ("beneficiary", "beneficiary_id")):
        if filters.get(name) not in (None, ""):
            rows = rows.filter(**{lookup: filters[name]})
    if filters.get("external_id"):
        rows = rows.filter(beneficiary__external_id=filters["external_id"])
    if filters.get("status"):
        rows = rows.filter(status__in=filters["status"])
    zone = program_zone(access.program)
    if filters.get("date_from"):
        rows = rows.filter(created_at__gte=datetime.combine(filters["date_from"], time(),
                                                            tzinfo=zone))
    if filters.get("date_to"):
        day_after = filters["date_to"] + timedelta(days=1)
        rows = rows.filter(created_at__lt=datetime.combine(day_after, time(), tzinfo=zone))
    return rows


def log_row(message):
    """One log line: ids, channel, status, masked number, provider verdict; never a name."""
    return {
        "id": message.pk,
        "created_at": message.created_at,
        "campaign_id": message.campaign_id,
        "dispatch_id": message.dispatch_id,
        "beneficiary_id": message.beneficiary_id,
        "external_id": getattr(message, "external_id", None) or "",
        "card_code": message.card.code if message.card_id else "",
        "channel": message.channel,
        "wallet_pass": message.wallet_pass,
        "channel_label": channel_label(message),
        "attempt": message.attempt,
        "status": message.status,
        "status_label": message.get_status_display(),
        "recipient": message.recipient,
        "provider_message_id": message.provider_message_id,
        "error_code": message.error_code,
        "error_label": error_label(message.error_code),
        "error_detail": error_detail_text(message.error_detail),
        "sent_at": message.sent_at,
        "delivered_at": message.delivered_at,
        "read_at": message.read_at,
        "failed_at": message.failed_at,
    }


def channel_label(message):
    """The channel in the reader's language; a Wallet step's message says what it carried."""
    if message.wallet_pass:
        return _("%(channel)s, Google Wallet link") % {"channel": message.get_channel_display()}
    return message.get_channel_display()


def dispatches_running(*, program):
    """How many of the program's dispatches are running now: the logs page refreshes its rows
    while there is one. A count only; it names no campaign."""
    return Dispatch.objects.filter(campaign__program=program,
                                   status=Dispatch.Status.RUNNING).count()
