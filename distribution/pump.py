"""Scheduling of a dispatch run: the pump's wake-ups, the batches it hands out, and the
settling of claims whose sender died.

A turn of the pump (dispatches.pump_once) runs as an RQ job on the "dispatch" queue. It
wakes itself with RQ's scheduler (`enqueue_in`: dispatch workers run `--with-scheduler`),
never more than settings.DISPATCH_PUMP_MAX_SLEEP_SECONDS (300) ahead, so that a changed
clock or a lost job is noticed.

Liveness of senders: every batch execution claims rows under its own token and keeps
`distribution:claim:<token>` alive in Redis while it runs. A row still `sending` whose token
has expired belongs to a sender that died: queued again when its attempt's Message was never
inserted (nobody was called), else settled as `outcome_unknown` and never re-sent (see
distribution.claims).
"""

import logging
import threading
import time
import uuid
from datetime import timedelta

import django_rq
import redis
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from rq import Retry

from campaigns.phones import mask_phone
from distribution import clock, outcomes, tokens
from distribution.bulk import update_rows
from distribution.models import DispatchRecipient, Message

logger = logging.getLogger(__name__)

RStatus = DispatchRecipient.Status
CLAIM_TTL_SECONDS = 10
CLAIM_BEAT_SECONDS = 3
# A recipient handed to a batch that has not claimed it after this long is handed out again
# (the batch job was lost); claims stay exclusive, so this never sends twice.
BATCH_LEASE = timedelta(minutes=10)
MAX_PER_TURN = 20_000
BATCH_TIMEOUT = 3600
# Kept a while, not deleted at once: RQ 2.12 fails a retried job's clean-up when it deletes
# the job while the dead worker's execution record is already gone.
RESULT_TTL = 600
QUEUE = "dispatch"


def max_sleep():
    return float(getattr(settings, "DISPATCH_PUMP_MAX_SLEEP_SECONDS", 300))


def schedule(dispatch_id, *, at=None):
    """A pump turn for the run now (`at` None or past) or at dispatch-clock time `at`.

    Deduplicated through Redis: a wake-up already due no later than `at` makes this a no-op.
    """
    from distribution.tasks import dispatch_pump

    r = tokens.connection()
    queue = django_rq.get_queue(QUEUE)
    delay = 0.0 if at is None else min(clock.real_seconds_until(at), max_sleep())
    if delay <= 0.05:
        if r.set(f"distribution:pump-queued:{dispatch_id}", "1", nx=True, ex=5):
            queue.enqueue(dispatch_pump, dispatch_id, at_front=True, result_ttl=RESULT_TTL,
                          failure_ttl=24 * 3600)
        return
    due = time.time() + delay
    key = f"distribution:pump-due:{dispatch_id}"
    current = r.get(key)
    if current is not None and time.time() <= float(current) <= due + 0.5:
        return
    r.set(key, f"{due:.3f}", ex=int(delay) + 120)
    queue.enqueue_in(timedelta(seconds=delay), dispatch_pump, dispatch_id, result_ttl=RESULT_TTL,
                     failure_ttl=24 * 3600)


def turn_started(dispatch_id):
    """Called when a pump turn begins: this turn may be the awaited wake-up (RQ's scheduler
    rounds to the second, so it can come a little early), so the next request to be woken,
    now or later, schedules afresh."""
    tokens.connection().delete(f"distribution:pump-queued:{dispatch_id}",
                               f"distribution:pump-due:{dispatch_id}")


def hand_out(*, dispatch, now, size):
    """Due recipients -> batches of `size` per channel, each an RQ job; returns how many."""
    from distribution.tasks import send_batch

    due = list(
        DispatchRecipient.objects.filter(
            dispatch_id=dispatch.pk, status=RStatus.QUEUED, next_attempt_at__lte=now,
        ).filter(Q(batched_at__isnull=True) | Q(batched_at__lt=now - BATCH_LEASE))
        .order_by("pk").values_list("pk", "channel")[:MAX_PER_TURN]
    )
    if not due:
        return 0
    by_channel = {}
    for pk, channel in due:
        by_channel.setdefault(channel, []).append(pk)
    batches = [
        (channel, ids[i:i + size])
        for channel, ids in by_channel.items()
        for i in range(0, len(ids), size)
    ]
    with transaction.atomic():
        DispatchRecipient.objects.filter(pk__in=[pk for pk, _ in due]).update(batched_at=now)
    queue = django_rq.get_queue(QUEUE)
    queue.enqueue_many([
        queue.prepare_data(
            send_batch,
            args=(dispatch.pk, channel, ids),
            job_id=f"dispatch{dispatch.pk}-batch-{uuid.uuid4().hex[:12]}",
            timeout=BATCH_TIMEOUT,
            result_ttl=RESULT_TTL,
            failure_ttl=24 * 3600,
            # A worker killed mid-batch: RQ runs the batch again elsewhere; its claims make
            # that safe (see distribution.sending).
            retry=Retry(max=3),
        )
        for channel, ids in batches
    ])
    return len(due)


class ClaimHeartbeat:
    """Keeps a batch execution's claim token alive in Redis while it runs (a thread)."""

    def __init__(self):
        self.token = uuid.uuid4().hex
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)

    def __enter__(self):
        self._touch()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        tokens.connection().delete(claim_key(self.token))

    def _beat(self):
        while not self._stop.wait(CLAIM_BEAT_SECONDS):
            try:
                self._touch()
            except redis.exceptions.RedisError:
                logger.warning("claim heartbeat: Redis did not answer; retrying")

    def _touch(self):
        tokens.connection().set(claim_key(self.token), "1", ex=CLAIM_TTL_SECONDS)


def claim_key(token):
    return f"distribution:claim:{token}"


def settle_dead_claims(*, dispatch_id, recipient_ids=None):
    """Rows left `sending` by a sender that died: queued again or failed as outcome unknown
    (see _settle). Returns how many rows are still `sending` under a live sender."""
    rows = DispatchRecipient.objects.filter(dispatch_id=dispatch_id, status=RStatus.SENDING)
    if recipient_ids is not None:
        rows = rows.filter(pk__in=recipient_ids)
    claims = list(rows.values_list("pk", "claim_token"))
    if not claims:
        return 0
    r = tokens.connection()
    tokens_seen = {token for _, token in claims}
    with r.pipeline(transaction=False) as pipe:
        for token in tokens_seen:
            pipe.exists(claim_key(token))
        alive = {token for token, live in zip(tokens_seen, pipe.execute(), strict=True) if live}
    dead = [pk for pk, token in claims if token not in alive]
    if dead:
        _settle(dispatch_id, dead, tokens_seen - alive)
    return len(claims) - len(dead)


def _settle(dispatch_id, recipient_ids, dead_tokens):
    """Dead claims fail as outcome unknown: their Message was inserted with the claim, so the
    provider may have been called. (A claim without its Message - which the claim's single
    transaction should make impossible - was never sent and is queued again.)"""
    now = clock.now()
    with transaction.atomic():
        recipients = list(
            DispatchRecipient.objects.select_for_update()
            .filter(pk__in=recipient_ids, status=RStatus.SENDING, claim_token__in=dead_tokens)
        )
        messages = {
            m.beneficiary_id: m
            for m in Message.objects.filter(
                dispatch_id=dispatch_id, status=Message.Status.SENDING,
                beneficiary_id__in=[r.beneficiary_id for r in recipients],
            ).select_related("beneficiary")
        }
        unknown, requeued = [], []
        for recipient in recipients:
            message = messages.get(recipient.beneficiary_id)
            if message is None:
                requeued.append(recipient.pk)
                continue
            outcomes.settle_unknown(recipient=recipient, message=message, now=now)
            message.recipient = mask_phone(message.beneficiary.phone)
            unknown.append((recipient, message))
        update_rows(Message.objects.filter(status=Message.Status.SENDING),
                    [m for _, m in unknown],
                    ["status", "error_code", "error_detail", "recipient", "failed_at"])
        update_rows(DispatchRecipient.objects.all(), [r for r, _ in unknown],
                    ["status", "attempts", "claim_token", "last_error"])
        DispatchRecipient.objects.filter(pk__in=requeued).update(
            status=RStatus.QUEUED, claim_token="", tries=F("tries") - 1, batched_at=None,
            next_attempt_at=now,
        )
