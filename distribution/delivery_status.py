"""Delivery statuses from the providers' webhooks, applied to the send log.

Statuses only move forward: sent < delivered < read, and failed is terminal. Callbacks
arrive out of order and more than once (Meta retries a webhook for days), so each one is a
single conditional UPDATE found by the indexed provider id: it changes the row only when the
row is behind the new status. `delivered` arriving before `sent` fills `sent_at` as well. A
callback for a row already further along changes nothing.

A callback for an id not stored yet is parked (ParkedReceipt, kept PARK_FOR): a dispatch
writes its batch's provider ids up to half a second after the provider answered, and Meta or
Orange may call back sooner. Whoever writes provider ids calls apply_parked afterwards. Both
sides write first and look for the other second (the webhook parks, then looks for the message
again; the sender writes the id, then looks for parked statuses), so a status is never left
parked for an id that was written meanwhile. Parking deletes the channel's expired rows.
"""

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from distribution.models import Message, ParkedReceipt
from distribution.providers.adapter import scrub

logger = logging.getLogger(__name__)

S = Message.Status
# The statuses a row may be in for each new status to apply.
BEHIND = {
    S.SENT: [S.PENDING, S.SENDING],
    S.DELIVERED: [S.PENDING, S.SENDING, S.SENT],
    S.READ: [S.PENDING, S.SENDING, S.SENT, S.DELIVERED],
    S.FAILED: [S.PENDING, S.SENDING, S.SENT],
}


PARK_FOR = timedelta(hours=24)


def apply_status(*, program_id, channel, provider_message_id, status, at, error_code="",
                 error_detail="", park=True):
    """Moves the message forward to `status` at `at`; returns "updated", "unchanged" (already
    there or further), "parked" (no such message of this program yet: kept for when its id
    is written) or "unknown" (nothing to apply)."""
    if not provider_message_id or status not in BEHIND:
        return "unknown"
    outcome = _apply(program_id, channel, provider_message_id, status, at, error_code,
                     error_detail)
    if outcome != "unknown" or not park:
        return outcome
    _park(program_id, channel, provider_message_id, status, at, error_code, error_detail)
    # The id may have been written between the first look and the parking: look again.
    outcome = _apply(program_id, channel, provider_message_id, status, at, error_code,
                     error_detail)
    if outcome != "unknown":
        ParkedReceipt.objects.filter(channel=channel, provider_message_id=provider_message_id,
                                     status=status).delete()
        return outcome
    logger.info("%s status %s for a message id not written yet %s: parked", channel, status,
                provider_message_id[:128])
    return "parked"


def apply_parked(*, channel, provider_message_ids):
    """Applies (and deletes) the parked statuses of these just-written provider ids; returns
    how many were found. One indexed query when there are none."""
    ids = [i for i in provider_message_ids if i]
    if not ids:
        return 0
    parked = list(ParkedReceipt.objects.filter(
        channel=channel, provider_message_id__in=ids, expires_at__gt=timezone.now()
    ).order_by("at", "pk"))
    for row in parked:
        _apply(row.program_id, channel, row.provider_message_id, row.status, row.at,
               row.error_code, row.error_detail)
    if parked:
        ParkedReceipt.objects.filter(pk__in=[row.pk for row in parked]).delete()
    return len(parked)


def _park(program_id, channel, provider_message_id, status, at, error_code, error_detail):
    now = timezone.now()
    ParkedReceipt.objects.filter(channel=channel, expires_at__lte=now).delete()
    try:
        with transaction.atomic():
            ParkedReceipt.objects.create(
                program_id=program_id, channel=channel,
                provider_message_id=provider_message_id[:128], status=status, at=at,
                error_code=str(error_code)[:40], error_detail=scrub(error_detail, limit=255),
                expires_at=now + PARK_FOR,
            )
    except IntegrityError:
        pass  # the provider's retry of a status already parked


def _apply(program_id, channel, provider_message_id, status, at, error_code, error_detail):
    changes = {"status": status}
    if status == S.SENT:
        changes["sent_at"] = Coalesce("sent_at", at)
    elif status == S.DELIVERED:
        changes.update(delivered_at=at, sent_at=Coalesce("sent_at", at))
    elif status == S.READ:
        changes.update(read_at=at, delivered_at=Coalesce("delivered_at", at),
                       sent_at=Coalesce("sent_at", at))
    else:
        changes.update(failed_at=at, error_code=str(error_code)[:40],
                       error_detail=scrub(error_detail, limit=255))
    rows = Message.objects.filter(
        provider_message_id=provider_message_id, channel=channel, program_id=program_id
    )
    if rows.filter(status__in=BEHIND[status]).update(**changes):
        return "updated"
    if rows.exists():
        return "unchanged"
    return "unknown"


