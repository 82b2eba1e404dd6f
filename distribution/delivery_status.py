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

A webhook POST that carries many statuses (Meta batches them) applies them together
(apply_statuses): on PostgreSQL one UPDATE for all those that find a row behind them, then one
look for the ids that exist (unchanged), and only the rest - ids not written yet - one by one
through apply_status, which parks them.
"""

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
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
# What apply_status answers for one status; a webhook answers how many of each.
OUTCOMES = ("updated", "unchanged", "parked", "unknown")


def outcome_counts():
    """A webhook's answer before any status is applied: each outcome at zero."""
    return dict.fromkeys(OUTCOMES, 0)


@dataclass(frozen=True)
class StatusUpdate:
    """One status a provider reported for one of its message ids."""

    provider_message_id: str
    status: str
    at: datetime
    error_code: str = ""
    error_detail: str = ""


def apply_statuses(*, program_id, channel, updates):
    """apply_status for each of `updates` (StatusUpdate, in the order the provider sent
    them); returns each one's outcome, in the same order. An id named twice is applied in
    that order too (one round per repetition)."""
    outcomes = ["unknown"] * len(updates)
    usable = [(i, u) for i, u in enumerate(updates)
              if u.provider_message_id and u.status in BEHIND]
    if connection.vendor != "postgresql":
        for i, update in usable:
            outcomes[i] = apply_status(program_id=program_id, channel=channel,
                                       **update.__dict__)
        return outcomes
    rounds, seen = [], Counter()
    for i, update in usable:
        n = seen[update.provider_message_id]
        seen[update.provider_message_id] += 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append((i, update))
    for batch in rounds:
        updated = _apply_many(program_id, channel, [update for _, update in batch])
        rest = []
        for i, update in batch:
            if update.provider_message_id in updated:
                outcomes[i] = "updated"
            else:
                rest.append((i, update))
        existing = set(Message.objects.filter(
            provider_message_id__in=[u.provider_message_id for _, u in rest], channel=channel,
            program_id=program_id,
        ).values_list("provider_message_id", flat=True)) if rest else set()
        for i, update in rest:
            outcomes[i] = ("unchanged" if update.provider_message_id in existing else
                           apply_status(program_id=program_id, channel=channel,
                                        **update.__dict__))
    return outcomes


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


def _apply_many(program_id, channel, updates):
    """One UPDATE moving each message forward to its update's status (as _apply does for
    one); returns the provider ids of the rows it changed. Each id appears once. Sorted by
    id: two of these at once then lock the rows they share in the same order (the plan walks
    the list), rather than deadlock."""
    failed = S.FAILED
    updates = sorted(updates, key=lambda u: u.provider_message_id)
    columns = [
        [u.provider_message_id for u in updates],
        [str(u.status) for u in updates],
        [u.at for u in updates],
        [str(u.error_code)[:40] if u.status == failed else "" for u in updates],
        [scrub(u.error_detail, limit=255) if u.status == failed else "" for u in updates],
        [",".join(BEHIND[u.status]) for u in updates],
    ]
    table = connection.ops.quote_name(Message._meta.db_table)
    sql = f"""
        UPDATE {table} AS t SET
          status = v.status,
          sent_at = CASE WHEN v.status IN (%(sent)s, %(delivered)s, %(read)s)
                         THEN COALESCE(t.sent_at, v.at) ELSE t.sent_at END,
          delivered_at = CASE WHEN v.status = %(delivered)s THEN v.at
                              WHEN v.status = %(read)s THEN COALESCE(t.delivered_at, v.at)
                              ELSE t.delivered_at END,
          read_at = CASE WHEN v.status = %(read)s THEN v.at ELSE t.read_at END,
          failed_at = CASE WHEN v.status = %(failed)s THEN v.at ELSE t.failed_at END,
          error_code = CASE WHEN v.status = %(failed)s THEN v.error_code ELSE t.error_code END,
          error_detail = CASE WHEN v.status = %(failed)s THEN v.error_detail
                              ELSE t.error_detail END
        FROM unnest(%(ids)s::text[], %(statuses)s::text[], %(ats)s::timestamptz[],
                    %(codes)s::text[], %(details)s::text[], %(behind)s::text[])
          AS v(provider_message_id, status, at, error_code, error_detail, behind)
        WHERE t.provider_message_id = v.provider_message_id AND t.channel = %(channel)s
          AND t.program_id = %(program)s AND t.status = ANY(string_to_array(v.behind, ','))
        RETURNING t.provider_message_id
    """  # noqa: S608 - the table name comes from the model; every value is a parameter
    params = dict(zip(("ids", "statuses", "ats", "codes", "details", "behind"), columns,
                      strict=True))
    params.update(sent=str(S.SENT), delivered=str(S.DELIVERED), read=str(S.READ),
                  failed=str(failed), channel=channel, program=program_id)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


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


