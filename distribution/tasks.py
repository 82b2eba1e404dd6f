"""RQ tasks of dispatch runs (queue "dispatch"). Each takes ids, re-reads the truth and calls
services, so a task that runs twice (an RQ retry, a worker killed mid-batch) sends nothing
twice: the claims in distribution.sending decide who is sent, not the task.

  dispatch_pump: one turn of a run's pump (distribution.dispatches.pump_once)
  send_batch: claim, send and record a batch of recipients over one channel
"""

import contextlib
from datetime import timedelta

import redis

from distribution import clock, dispatches, pump, sending, tokens

PUMP_LOCK_SECONDS = 120


def dispatch_pump(dispatch_id):
    pump.turn_started(dispatch_id)
    # One turn at a time per run; a turn that finds another running tries again in a second
    # rather than vanishing (the running one may have read the rows before a change).
    lock = tokens.connection().lock(f"distribution:pump-lock:{dispatch_id}",
                                    timeout=PUMP_LOCK_SECONDS)
    if not lock.acquire(blocking=False):
        pump.schedule(dispatch_id, at=clock.now() + timedelta(seconds=1))
        return
    try:
        dispatches.pump_once(dispatch_id=dispatch_id)
    finally:
        # It may have expired during a very long turn; another turn may hold it now.
        with contextlib.suppress(redis.exceptions.LockError):
            lock.release()


def send_batch(dispatch_id, channel, recipient_ids):
    sending.send_batch(dispatch_id=dispatch_id, channel=channel, recipient_ids=recipient_ids)
