"""Delivery statuses from the providers' webhooks, applied to the send log.

Statuses only move forward: sent < delivered < read, and failed is terminal. Callbacks
arrive out of order and more than once (Meta retries a webhook for days), so each one is a
single conditional UPDATE found by the indexed provider id: it changes the row only when the
row is behind the new status. `delivered` arriving before `sent` fills `sent_at` as well. A
callback for a row already further along changes nothing; one for an id we never stored is
logged (the id only) and ignored.
"""

import logging

from django.db.models.functions import Coalesce

from distribution.models import Message
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


def apply_status(*, program_id, channel, provider_message_id, status, at, error_code="",
                 error_detail=""):
    """Moves the message forward to `status` at `at`; returns "updated", "unchanged" (already
    there or further) or "unknown" (no such message of this program)."""
    if not provider_message_id or status not in BEHIND:
        return "unknown"
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
    logger.info("%s status %s for an unknown message id %s: ignored", channel, status,
                provider_message_id[:128])
    return "unknown"


