"""Liveness of senders: every batch execution claims rows under its own token and keeps
`distribution:claim:<token>` alive in Redis while it runs. A row still `sending` whose token
has expired belongs to a sender that died: queued again when its attempt's Message was never
inserted (nobody was called), else settled as `outcome_unknown` and never re-sent (see
distribution.dispatch.claiming and retry_policy).

Each request is noted just before it leaves (`mark_started`, a set per claim token): a dead
sender's claim whose request was never noted sent nothing and is queued again; one noted, or
whose set Redis no longer holds, may have been sent and is settled as `outcome_unknown`.

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
STARTED_TTL_SECONDS = 3600
NOTHING_YET = "-"


class ClaimHeartbeat:
    """Keeps a batch execution's claim token alive in Redis while it runs (a thread)."""

    def __init__(self):
        self.token = uuid.uuid4().hex
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)

    def __enter__(self):
        self._touch()
        # The set of the requests that left exists from the start: its absence later means
        # Redis lost it, not that nothing left.
        with tokens.connection().pipeline(transaction=False) as pipe:
            pipe.sadd(started_key(self.token), NOTHING_YET)
            pipe.expire(started_key(self.token), STARTED_TTL_SECONDS)
            pipe.execute()
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


def started_key(token):
    return f"distribution:started:{token}"


# Atomic, so that a note and a settling of the same claim never cross: the note is taken only
# while the claim is alive and not yet declared dead (KEYS: claim, started set, tombstone).
_MARK = """
if redis.call('exists', KEYS[1]) == 1 and redis.call('exists', KEYS[3]) == 0 then
  redis.call('sadd', KEYS[2], ARGV[1])
  redis.call('expire', KEYS[2], ARGV[2])
  return 1
end
return 0
"""
_mark_script = None


def mark_started(token, message_id):
    """Notes that the attempt `message_id` of the claim `token` is about to reach the
    provider; False when the claim was meanwhile declared dead (then the request must not
    leave: the claim is queued again). Raises RedisError when Redis does not answer."""
    global _mark_script
    r = tokens.connection()
    if _mark_script is None:
        # EVALSHA: one note a message, so the script's text is not sent (and hashed by Redis)
        # each time; redis-py loads it again if Redis restarted empty.
        _mark_script = r.register_script(_MARK)
    keys = [claim_key(token), started_key(token), dead_key(token)]
    return bool(_mark_script(keys=keys, args=[message_id, STARTED_TTL_SECONDS], client=r))


def dead_key(token):
    return f"distribution:claim-dead:{token}"


def _started_sets(dead_tokens):
    """{token: ids of the attempts noted as leaving}, for the tokens whose whole set Redis
    holds: one without the NOTHING_YET it was created with was lost and made again by later
    notes (Redis restarted empty meanwhile), so it cannot tell what did not leave."""
    r = tokens.connection()
    dead_tokens = list(dead_tokens)
    with r.pipeline(transaction=True) as pipe:
        for token in dead_tokens:
            # Declared dead first: a sender still running can note nothing more after this.
            pipe.set(dead_key(token), "1", ex=STARTED_TTL_SECONDS)
            pipe.smembers(started_key(token))
        found = pipe.execute()[1::2]
    return {token: {m.decode() for m in members}
            for token, members in zip(dead_tokens, found, strict=True)
            if NOTHING_YET.encode() in members}


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
    """Dead claims whose request was noted as leaving (or whose notes Redis lost) fail as
    outcome unknown: the provider may have been called. Those never noted, and a claim
    without its Message, were never sent: queued again, their Message rows removed."""
    now = clock.now()
    started = _started_sets(dead_tokens)
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
        unknown, requeued, never_left = [], [], []
        for recipient in recipients:
            message = messages.get(recipient.beneficiary_id)
            noted = started.get(recipient.claim_token)
            left = message is not None and (noted is None or str(message.pk) in noted)
            if retry_policy.dead_claim_is_retried(message_inserted=message is not None,
                                                  request_left=left):
                requeued.append(recipient.pk)
                if message is not None:
                    never_left.append(message.pk)
                continue
            verdicts.settle_unknown(recipient=recipient, message=message, now=now)
            message.recipient = mask_phone(message.beneficiary.phone)
            unknown.append((recipient, message))
        update_rows(Message.objects.filter(status=Message.Status.SENDING),
                    [m for _, m in unknown],
                    ["status", "error_code", "error_detail", "recipient", "failed_at"])
        update_rows(DispatchRecipient.objects.all(), [r for r, _ in unknown],
                    ["status", "attempts", "claim_token", "last_error"])
        # Nobody was called: the attempt is undone, its number and key used again.
        Message.objects.filter(pk__in=never_left, status=Message.Status.SENDING).delete()
        DispatchRecipient.objects.filter(pk__in=requeued).update(
            status=RStatus.QUEUED, claim_token="", tries=F("tries") - 1, batched_at=None,
            next_attempt_at=now,
        )
