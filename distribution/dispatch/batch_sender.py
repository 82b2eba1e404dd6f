"""Sending one batch of a dispatch run: each attempt reaches the provider at most once.

Per group of recipients: rate-limit slots first (rate_limit), then the claim and the attempts'
Message rows (claiming: the order there is what makes a send happen at most once), then the
provider calls on the threads of the process's sender pool (so slow providers overlap), then
the outcomes, recorded in bulk every FLUSH_EVERY results or FLUSH_SECONDS (verdicts applies
what retry_policy decides for each one).

After a crash:
- claimed nothing: the RQ retry of the batch claims and sends the rows as usual;
- claimed, Message not yet inserted: the provider was not called; once the dead sender's
  claim token expires, the retry (or the pump) queues the row again;
- Message inserted, outcome not recorded: the provider may have sent it, and neither
  provider takes an idempotency key that would make a second request safe: the row is
  settled as `outcome_unknown` and never sent again;
- the RQ task retried while another execution still runs: that execution's token is alive,
  so its rows are left alone, and claims are exclusive (FOR UPDATE SKIP LOCKED, then the
  status change), so no row is sent by both.
Transport errors that prove the provider never saw a request (connect timeout, connection
refused) are ordinary retryable failures; a read timeout is `outcome_unknown`.

A dropped database connection (campaignid/db_reconnect.py) stops the claiming: the group
whose claim failed was not claimed (one statement) and goes back to the pump; the requests
in flight finish and their outcomes are written on a new connection.
"""

import logging
import os
import sys
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import timedelta

import redis
from django.conf import settings

from campaignid.db_reconnect import connection_lost, reconnect, with_reconnect
from campaigns.phones import mask_phone
from distribution.card_messages import CardImages, outbound_message
from distribution.dispatch import claiming, clock, liveness, runs, wakeups, wallet_step
from distribution.dispatch.live_events import send_dispatch_event_on_commit
from distribution.dispatch.rate_limit import RateLimiter, SlotPool
from distribution.dispatch.send_window import SendWindow
from distribution.dispatch.verdicts import apply_outcome
from distribution.integrations import IntegrationNotConfigured, channel_for
from distribution.message_templates import template_body
from distribution.models import Dispatch, DispatchRecipient, Message
from distribution.providers.adapter import OutboundMessage, SendResult

logger = logging.getLogger(__name__)

RStatus = DispatchRecipient.Status
CLAIM_MAX = 64
FLUSH_EVERY = 100
FLUSH_SECONDS = 0.5
WINDOW_MARGIN = timedelta(seconds=1)

_pool_lock = threading.Lock()
_pool = None
_pool_key = None


def concurrency():
    return int(getattr(settings, "DISPATCH_SEND_CONCURRENCY", 64))


def sender_pool():
    """The process's provider-call threads (a forked process, or a changed setting, builds
    its own)."""
    global _pool, _pool_key
    key = (os.getpid(), concurrency())
    with _pool_lock:
        if _pool is None or _pool_key != key:
            if _pool is not None and _pool_key[0] == key[0]:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(max_workers=key[1], thread_name_prefix="dispatch-send")
            _pool_key = key
            # The claim loop makes many short database calls between the senders' HTTP work;
            # with the default 5 ms GIL switch interval each of them waits for a sender to
            # yield. A shorter interval raised one worker's throughput by about a sixth.
            sys.setswitchinterval(min(sys.getswitchinterval(), 0.001))
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
    liveness.settle_dead_claims(dispatch_id=dispatch_id, recipient_ids=recipient_ids)
    if dispatch.status != Dispatch.Status.RUNNING:
        return
    try:
        adapter = channel_for(program=dispatch.campaign.program, channel=channel)
        if channel == wallet_step.WALLET:  # wallet hook: the link goes by SMS or WhatsApp
            adapter = wallet_step.WalletDelivery(wallet=adapter, dispatch=dispatch)
    except IntegrationNotConfigured as exc:
        runs.dispatch_pause_for_account(dispatch_id=dispatch_id, reason=str(exc))
        return
    with liveness.ClaimHeartbeat() as heartbeat:
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
    if not runs.dispatch_finish_if_complete(dispatch_id=dispatch_id):
        wakeups.schedule_next_turn(dispatch_id=dispatch_id)
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
        self.slots = SlotPool(self.limiter)
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
        # Claim in groups (one transaction each), starting the next group while half the pool
        # is still busy so that it never runs dry waiting for a claim.
        group = max(1, min(CLAIM_MAX, capacity // 2))
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
        self.slots.add(reservation, reserved_at=time.monotonic())
        ids = [self.pending.popleft() for _ in range(min(reservation.granted, len(self.pending)))]
        try:
            claimed = self._claim(ids)
        except Exception as exc:
            if not connection_lost(exc):
                raise
            logger.warning("dispatch %s: database connection lost while claiming; the "
                           "batch stops and its unclaimed recipients go back to the pump",
                           self.dispatch.pk)
            reconnect()
            self.unclaimed_ids.extend(ids)
            self.stopped = True
            return
        if len(claimed) < len(ids):
            taken = {c.recipient.pk for c in claimed}
            self.unclaimed_ids.extend(pk for pk in ids if pk not in taken)
            if not claimed and not self._still_running():
                self.stopped = True
        for claim in claimed:
            future = pool.submit(_send, self.adapter, claim.outbound, self.slots, self.token,
                                 claim.message.pk)
            self.in_flight[future] = claim

    def _claim(self, ids):
        rows = claiming.claim_rows(dispatch=self.dispatch, channel=self.channel, ids=ids,
                                 token=self.token, now=clock.now())
        claimed = []
        for row in rows:
            row.message.recipient = mask_phone(row.beneficiary.phone)
            claim = Claimed(recipient=row.recipient, message=row.message, outbound=None)
            try:
                claim.outbound = outbound_message(
                    channel=self.channel, card=row.card, beneficiary=row.beneficiary,
                    campaign=self.dispatch.campaign, program=self.program,
                    to=row.beneficiary.phone, body=self.body,
                    key=row.message.idempotency_key, images=self.images,
                )
            except Exception as exc:  # one card that cannot be prepared fails alone
                logger.warning("dispatch %s: card %s cannot be prepared (%s)",
                               self.dispatch.pk, row.card.pk, type(exc).__name__)
                # Nobody was called: recorded as this attempt's (permanent) failure.
                self.done.append((claim, SendResult.error(
                    "permanent", "unpreparable", f"The card cannot be prepared: "
                    f"{type(exc).__name__}"), clock.now()))
                continue
            claimed.append(claim)
        if self.channel == wallet_step.WALLET:  # wallet hook: carriers, texts, short links
            claimed = wallet_step.prepare(claimed=claimed, rows=rows, delivery=self.adapter,
                                          dispatch=self.dispatch, refused=self.done,
                                          now=clock.now())
        return claimed

    def _flush(self):
        if not self.done:
            return
        results, self.done, self.first_done_at = self.done, [], None
        pause_reason, hold = None, 0.0
        if self.channel == wallet_step.WALLET:  # wallet hook: store the save links made
            wallet_step.record(results)
        for claim, result, answered_at in results:
            action = apply_outcome(dispatch=self.dispatch, recipient=claim.recipient,
                                   message=claim.message, result=result, now=answered_at)
            if action and action[0] == "pause":
                pause_reason = action[1]
            elif action and action[0] == "hold":
                hold = max(hold, action[1])
        with_reconnect(lambda: claiming.record_outcomes(
            messages=[claim.message for claim, *_ in results],
            recipients=[claim.recipient for claim, *_ in results], token=self.token,
        ), what="recording send outcomes")
        if pause_reason:
            runs.dispatch_pause_for_account(dispatch_id=self.dispatch.pk,
                                                  reason=pause_reason)
            self.stopped = True
        send_dispatch_event_on_commit(self.dispatch.pk)
        if hold:
            self.slots.clear()
            self.limiter.hold(hold)

    def _still_running(self):
        return Dispatch.objects.filter(pk=self.dispatch.pk, status=Dispatch.Status.RUNNING).exists()


def _send(adapter, message, slots, token, message_id):
    """On a pool thread: wait for a rate-limit slot (SlotPool), note that the request is
    leaving (liveness.mark_started: a sender killed before that point sent nothing, so its
    claim is queued again rather than settled as unknown), call the provider; returns
    (SendResult, when the answer came on the dispatch clock)."""
    slots.wait()
    try:
        noted = liveness.mark_started(token, message_id)
    except redis.exceptions.RedisError:
        noted = False
    if not noted:
        # Unnoted, a request could not be told from one that never left (or the claim was
        # declared dead meanwhile): not sent; the attempt is tried again.
        return SendResult.error("retryable", "not_sent", "not noted as leaving"), clock.now()
    try:
        result = adapter.send(message=message)
    except Exception as exc:  # an adapter bug must not lose the claim's outcome
        logger.error("%s adapter raised %s", adapter.code, type(exc).__name__)
        # Whether the request left is unknown: never sent again (see retry_policy).
        result = SendResult.error("retryable", "internal_error", type(exc).__name__)
    return result, clock.now()

