"""RQ tasks of dispatch runs (queue "dispatch"), enqueued by dotted path. Each takes ids,
re-reads the truth and calls services, so a task that runs twice (an RQ retry, a worker
killed mid-batch) sends nothing twice: the claims (distribution.dispatch.claiming) decide
who is sent, not the task.

  dispatch_pump: one turn of a run's pump (distribution.dispatch.pump.pump_once)
  send_batch: claim, send and record a batch of recipients over one channel
"""

import contextlib

import redis

from distribution import tokens
from distribution.dispatch import batch_sender, clock, pump, retry_policy, wakeups

PUMP_LOCK_SECONDS = 120


def dispatch_pump(dispatch_id):
    wakeups.turn_started(dispatch_id)
    # One turn at a time per run; a turn that finds another running tries again in a second
    # rather than vanishing (the running one may have read the rows before a change).
    lock = tokens.connection().lock(f"distribution:pump-lock:{dispatch_id}",
                                    timeout=PUMP_LOCK_SECONDS)
    if not lock.acquire(blocking=False):
        wakeups.schedule(dispatch_id, at=clock.now() + retry_policy.PUMP_BUSY_DELAY)
        return
    try:
        pump.pump_once(dispatch_id=dispatch_id)
    finally:
        # It may have expired during a very long turn; another turn may hold it now.
        with contextlib.suppress(redis.exceptions.LockError):
            lock.release()


def send_batch(dispatch_id, channel, recipient_ids):
    batch_sender.send_batch(dispatch_id=dispatch_id, channel=channel, recipient_ids=recipient_ids)
