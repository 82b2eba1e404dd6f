"""Liveness of senders: every batch execution claims rows under its own token and keeps
`distribution:claim:<token>` alive in Redis while it runs. A row still `sending` whose token
has expired belongs to a sender that died: queued again when its attempt's Message was never
inserted (nobody was called), else settled as `outcome_unknown` and never re-sent (see
distribution.dispatch.claiming and retry_policy).

Redis restarting empty takes every token with it while the senders still run: nothing is
judged dead until their heartbeats have had CLAIM_TTL_SECONDS to write the tokens again
(`distribution:liveness-since` marks when Redis began remembering them).
"""

import logging
import threading
import time
import uuid
from datetime import timedelta

import redis
from django.db import transaction
from django.db.models import F

from campaignid.bulk_sql import update_rows
from campaigns.phones import mask_phone
from distribution import tokens
from distribution.dispatch import clock, retry_policy, verdicts
from distribution.models import DispatchRecipient, Message

logger = logging.getLogger(__name__)

RStatus = DispatchRecipient.Status
CLAIM_TTL_SECONDS = 10
CLAIM_BEAT_SECONDS = 3
# A recipient handed to a batch that has not claimed it after this long is handed out again
# (the batch job was lost); claims stay exclusive, so this never sends twice.
BATCH_LEASE = timedelta(minutes=10)
LIVENESS_SINCE_KEY = "distribution:liveness-since"


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
    if not _tokens_remembered_long_enough(r):
        return len(claims)
    tokens_seen = {token for _, token in claims}
    with r.pipeline(transaction=False) as pipe:
        for token in tokens_seen:
            pipe.exists(claim_key(token))
        alive = {token for token, live in zip(tokens_seen, pipe.execute(), strict=True) if live}
    dead = [pk for pk, token in claims if token not in alive]
    if dead:
        _settle(dispatch_id, dead, tokens_seen - alive)
    return len(claims) - len(dead)


def _tokens_remembered_long_enough(r):
    """False until Redis has kept claim tokens for CLAIM_TTL_SECONDS (a Redis that restarted
    empty forgot live senders' tokens too; their next beats bring them back)."""
    since = r.get(LIVENESS_SINCE_KEY)
    if since is None:
        r.set(LIVENESS_SINCE_KEY, f"{time.time():.3f}", nx=True)
        return False
    return time.time() - float(since) >= CLAIM_TTL_SECONDS


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
            if retry_policy.dead_claim_is_retried(message_inserted=message is not None):
                requeued.append(recipient.pk)
                continue
            verdicts.settle_unknown(recipient=recipient, message=message, now=now)
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
