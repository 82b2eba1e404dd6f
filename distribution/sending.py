"""Sending one batch of a dispatch run: each attempt reaches the provider at most once.

Per group of recipients: rate-limit slots first (distribution.ratelimit), then the claim, one
transaction that moves the recipients queued -> sending under this execution's token and
inserts each attempt's Message as `sending` under its unique idempotency key
(`d<dispatch>-c<card>-<channel>-a<attempt>`); only then the provider calls, on the threads of
the process's sender pool (so slow providers overlap); outcomes are recorded in bulk every
FLUSH_EVERY results or FLUSH_SECONDS (distribution.outcomes decides what each one means).

After a crash:
- claimed nothing: the RQ retry of the batch claims and sends the rows as usual;
- claimed, the provider call started, outcome not recorded: the row stays `sending` under a
  token whose Redis heartbeat expires; the retry (or the pump) settles it as
  `outcome_unknown` and never sends it again - the provider may have sent it, and neither
  provider takes an idempotency key that would make a second request safe;
- the RQ task itself retried while another execution still runs: that execution's token is
  alive, so its rows are left alone, and claims are exclusive (SELECT ... FOR UPDATE SKIP
  LOCKED, then the status change), so no row is sent by both.
Transport errors that prove the provider never saw a request (connect timeout, connection
refused) are ordinary retryable failures; a read timeout is `outcome_unknown`.
"""

import logging
import os
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F

from campaigns.phones import mask_phone
from distribution import clock, dispatches, pump
from distribution.bulk import update_rows
from distribution.channels.base import OutboundMessage, SendResult
from distribution.events import send_dispatch_event_on_commit
from distribution.integrations import IntegrationNotConfigured, channel_for
from distribution.message_templates import template_body
from distribution.models import Dispatch, DispatchRecipient, Message
from distribution.outbound import CardImages, outbound_message
from distribution.outcomes import apply_outcome
from distribution.ratelimit import RateLimiter
from distribution.window import SendWindow

logger = logging.getLogger(__name__)

RStatus = DispatchRecipient.Status
CLAIM_MAX = 16
FLUSH_EVERY = 50
FLUSH_SECONDS = 0.2
WINDOW_MARGIN = timedelta(seconds=1)
MESSAGE_FIELDS = ["status", "provider_message_id", "via_template", "error_code", "error_detail",
                  "sent_at", "failed_at"]
RECIPIENT_FIELDS = ["status", "channel", "attempts", "channel_attempts", "next_attempt_at",
                    "batched_at", "claim_token", "last_error"]

_pool_lock = threading.Lock()
_pool = None
_pool_pid = None


def concurrency():
    return int(getattr(settings, "DISPATCH_SEND_CONCURRENCY", 32))


def sender_pool():
    """The process's provider-call threads (a forked process builds its own)."""
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = ThreadPoolExecutor(max_workers=concurrency(),
                                       thread_name_prefix="dispatch-send")
            _pool_pid = os.getpid()
    return _pool


@dataclass
class Claimed:
    recipient: DispatchRecipient
    message: Message
    outbound: OutboundMessage


def send_batch(*, dispatch_id, channel, recipient_ids):
    dispatch = Dispatch.objects.select_related("campaign__program").filter(pk=dispatch_id).first()
    if dispatch is None:
        return
    # This batch may be an RQ retry after its worker died: settle what that one left behind.
    pump.settle_dead_claims(dispatch_id=dispatch_id, recipient_ids=recipient_ids)
    if dispatch.status != Dispatch.Status.RUNNING:
        return
    try:
        adapter = channel_for(program=dispatch.campaign.program, channel=channel)
    except IntegrationNotConfigured as exc:
        dispatches.dispatch_pause_for_account(dispatch_id=dispatch_id, reason=str(exc))
        return
    with pump.ClaimHeartbeat() as heartbeat:
        batch = Batch(dispatch=dispatch, channel=channel, adapter=adapter,
                      recipient_ids=recipient_ids, token=heartbeat.token)
        try:
            batch.run()
        finally:
            batch.images.close()
    after_batch(dispatch_id=dispatch_id, unclaimed_ids=batch.unclaimed_ids)


def after_batch(*, dispatch_id, unclaimed_ids):
    if unclaimed_ids:
        # Stopped early (window closed, run paused): the pump hands them out again later.
        DispatchRecipient.objects.filter(pk__in=unclaimed_ids, status=RStatus.QUEUED).update(
            batched_at=None
        )
    if not dispatches.dispatch_finish_if_complete(dispatch_id=dispatch_id):
        dispatches.schedule_next_turn(dispatch_id=dispatch_id)
        send_dispatch_event_on_commit(dispatch_id, final=True)


class Batch:
    def __init__(self, *, dispatch, channel, adapter, recipient_ids, token):
        self.dispatch = dispatch
        self.program = dispatch.campaign.program
        self.channel = channel
        self.adapter = adapter
        self.token = token
        self.limiter = RateLimiter(f"dispatch:{dispatch.pk}:{channel}",
                                   dispatch.rate_limit_per_second)
        self.window = SendWindow.of(dispatch, self.program)
        self.body = template_body(campaign=dispatch.campaign)
        self.images = CardImages()
        self.pending = deque(recipient_ids)
        self.unclaimed_ids = []
        self.in_flight = {}
        self.done = []
        self.first_done_at = None
        self.stopped = False

    def run(self):
        pool, capacity = sender_pool(), concurrency()
        # Claim in groups (fewer transactions), but never let the pool run dry waiting for one.
        group = max(1, min(CLAIM_MAX, capacity // 4))
        while True:
            wait_for = FLUSH_SECONDS
            free = capacity - len(self.in_flight)
            if self.pending and not self.stopped and (
                free >= min(group, len(self.pending)) or not self.in_flight
            ):
                now = clock.now()
                # A request must be over before the window closes, not merely begun.
                if not (self.window.contains(now) and self.window.contains(now + WINDOW_MARGIN)):
                    self.stopped = True
                else:
                    reservation = self.limiter.reserve(min(free, len(self.pending), CLAIM_MAX))
                    if reservation.granted:
                        self._claim_and_submit(pool, reservation)
                        continue
                    wait_for = min(wait_for, max(reservation.delay, 0.001))
            if not self.in_flight:
                self._flush()
                if not self.pending or self.stopped:
                    break
                time.sleep(wait_for)
                continue
            finished, _ = wait(list(self.in_flight), timeout=wait_for, return_when=FIRST_COMPLETED)
            for future in finished:
                self.done.append((self.in_flight.pop(future), *future.result()))
            if self.done and self.first_done_at is None:
                self.first_done_at = time.monotonic()
            if self.done and (len(self.done) >= FLUSH_EVERY or not self.in_flight
                              or time.monotonic() - self.first_done_at >= FLUSH_SECONDS):
                self._flush()
        self._flush()
        self.unclaimed_ids.extend(self.pending)

    def _claim_and_submit(self, pool, reservation):
        ids = [self.pending.popleft() for _ in range(min(reservation.granted, len(self.pending)))]
        started = time.monotonic()
        claimed = self._claim(ids)
        if len(claimed) < len(ids):
            taken = {c.recipient.pk for c in claimed}
            self.unclaimed_ids.extend(pk for pk in ids if pk not in taken)
            if not claimed and not self._still_running():
                self.stopped = True
        for claim, offset in zip(claimed, reservation.slot_offsets(), strict=False):
            future = pool.submit(_send, self.adapter, claim.outbound, started + offset)
            self.in_flight[future] = claim

    def _claim(self, ids):
        now = clock.now()
        with transaction.atomic():
            rows = list(
                DispatchRecipient.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk__in=ids, dispatch_id=self.dispatch.pk, status=RStatus.QUEUED,
                        channel=self.channel, next_attempt_at__lte=now,
                        dispatch__status=Dispatch.Status.RUNNING)
                .select_related("beneficiary", "card__job")
                .order_by("pk")
            )
            claimed, skipped = [], []
            for row in rows:
                if row.beneficiary.opted_out_at is not None:
                    skipped.append(row.pk)
                    continue
                claim = self._prepare(row, now)
                if claim is not None:
                    claimed.append(claim)
            if skipped:
                DispatchRecipient.objects.filter(pk__in=skipped).update(
                    status=RStatus.SKIPPED, skip_reason=DispatchRecipient.SkipReason.OPTED_OUT
                )
            if claimed:
                DispatchRecipient.objects.filter(pk__in=[c.recipient.pk for c in claimed]).update(
                    status=RStatus.SENDING, claim_token=self.token, claimed_at=now,
                    tries=F("tries") + 1,
                )
                Message.objects.bulk_create([c.message for c in claimed])
        return claimed

    def _prepare(self, row, now):
        """The Claimed for a locked row (its message unsaved), or None when the card cannot
        be sent at all (it is then failed, without calling anyone)."""
        person, card = row.beneficiary, row.card
        attempt = row.tries + 1
        key = f"d{self.dispatch.pk}-c{row.card_id}-{self.channel}-a{attempt}"
        message = Message(
            program=self.program, campaign_id=self.dispatch.campaign_id, beneficiary=person,
            card=card, dispatch_id=self.dispatch.pk, channel=self.channel, attempt=attempt,
            status=Message.Status.SENDING, recipient=mask_phone(person.phone),
            idempotency_key=key, created_at=now,
        )
        try:
            outbound = outbound_message(
                channel=self.channel, card=card, beneficiary=person,
                campaign=self.dispatch.campaign, program=self.program, to=person.phone,
                body=self.body, key=key, images=self.images,
            )
        except Exception as exc:  # one card that cannot be prepared fails alone
            logger.warning("dispatch %s: card %s cannot be prepared (%s)",
                           self.dispatch.pk, row.card_id, type(exc).__name__)
            DispatchRecipient.objects.filter(pk=row.pk).update(
                status=RStatus.FAILED, last_error=f"unpreparable: {type(exc).__name__}"
            )
            return None
        row.tries = attempt
        row.claim_token = self.token
        return Claimed(recipient=row, message=message, outbound=outbound)

    def _flush(self):
        if not self.done:
            return
        results, self.done, self.first_done_at = self.done, [], None
        pause_reason, hold = None, 0.0
        with transaction.atomic():
            for claim, result, answered_at in results:
                action = apply_outcome(dispatch=self.dispatch, recipient=claim.recipient,
                                       message=claim.message, result=result, now=answered_at)
                if action and action[0] == "pause":
                    pause_reason = action[1]
                elif action and action[0] == "hold":
                    hold = max(hold, action[1])
            update_rows(Message.objects.filter(status=Message.Status.SENDING),
                        [claim.message for claim, *_ in results], MESSAGE_FIELDS)
            update_rows(
                DispatchRecipient.objects.filter(claim_token=self.token, status=RStatus.SENDING),
                [claim.recipient for claim, *_ in results], RECIPIENT_FIELDS,
            )
            if pause_reason:
                dispatches.dispatch_pause_for_account(dispatch_id=self.dispatch.pk,
                                                      reason=pause_reason)
                self.stopped = True
            send_dispatch_event_on_commit(self.dispatch.pk)
        if hold:
            self.limiter.hold(hold)

    def _still_running(self):
        return Dispatch.objects.filter(pk=self.dispatch.pk, status=Dispatch.Status.RUNNING).exists()


def _send(adapter, message, at):
    """On a pool thread: wait for the message's rate-limit slot, call the provider; returns
    (SendResult, when the answer came on the dispatch clock)."""
    delay = at - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    try:
        result = adapter.send(message=message)
    except Exception as exc:  # an adapter bug must not lose the claim's outcome
        logger.error("%s adapter raised %s", adapter.code, type(exc).__name__)
        # Whether the request left is unknown: never sent again (see distribution.outcomes).
        result = SendResult.error("retryable", "internal_error", type(exc).__name__)
    return result, clock.now()
