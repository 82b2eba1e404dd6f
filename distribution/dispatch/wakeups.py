"""When a run's pump turns: now, at a given dispatch-clock time, or when the next recipient is
due. A turn is an RQ job on the "dispatch" queue, enqueued by its dotted path (so this module
needs no task module); it is woken with RQ's scheduler (`enqueue_in`: dispatch workers run
`--with-scheduler`), never more than settings.DISPATCH_PUMP_MAX_SLEEP_SECONDS (300) ahead, so
that a changed clock or a lost job is noticed.
"""

import time
from datetime import timedelta

import django_rq
from django.conf import settings
from django.db.models import Min

from distribution import tokens
from distribution.dispatch import clock
from distribution.dispatch.liveness import BATCH_LEASE, CLAIM_TTL_SECONDS
from distribution.models import DispatchRecipient

RStatus = DispatchRecipient.Status
QUEUE = "dispatch"
PUMP_TASK = "distribution.dispatch.tasks.dispatch_pump"
# Kept a while, not deleted at once: RQ 2.12 fails a retried job's clean-up when it deletes
# the job while the dead worker's execution record is already gone.
RESULT_TTL = 600
FAILURE_TTL = 24 * 3600


def max_sleep():
    return float(getattr(settings, "DISPATCH_PUMP_MAX_SLEEP_SECONDS", 300))


def schedule(dispatch_id, *, at=None):
    """A pump turn for the run now (`at` None or past) or at dispatch-clock time `at`.

    Deduplicated through Redis: a wake-up already due no later than `at` makes this a no-op.
    """
    r = tokens.connection()
    queue = django_rq.get_queue(QUEUE)
    delay = 0.0 if at is None else min(clock.real_seconds_until(at), max_sleep())
    if delay <= 0.05:
        if r.set(f"distribution:pump-queued:{dispatch_id}", "1", nx=True, ex=5):
            queue.enqueue(PUMP_TASK, dispatch_id, at_front=True, result_ttl=RESULT_TTL,
                          failure_ttl=FAILURE_TTL)
        return
    due = time.time() + delay
    key = f"distribution:pump-due:{dispatch_id}"
    current = r.get(key)
    if current is not None and time.time() <= float(current) <= due + 0.5:
        return
    r.set(key, f"{due:.3f}", ex=int(delay) + 120)
    queue.enqueue_in(timedelta(seconds=delay), PUMP_TASK, dispatch_id, result_ttl=RESULT_TTL,
                     failure_ttl=FAILURE_TTL)


def turn_started(dispatch_id):
    """Called when a pump turn begins: this turn may be the awaited wake-up (RQ's scheduler
    rounds to the second, so it can come a little early), so the next request to be woken,
    now or later, schedules afresh."""
    tokens.connection().delete(f"distribution:pump-queued:{dispatch_id}",
                               f"distribution:pump-due:{dispatch_id}")


def schedule_next_turn(*, dispatch_id):
    """Wake the pump when the next recipient is due, a dead claim can be settled, or a lost
    batch can be handed out again, whichever comes first."""
    rows = DispatchRecipient.objects.filter(dispatch_id=dispatch_id)
    waiting = rows.filter(status=RStatus.QUEUED, batched_at__isnull=True).aggregate(
        at=Min("next_attempt_at"))["at"]
    candidates = [waiting] if waiting else []
    if rows.filter(status=RStatus.SENDING).exists():
        candidates.append(clock.now() + timedelta(seconds=CLAIM_TTL_SECONDS))
    oldest_batch = rows.filter(status=RStatus.QUEUED, batched_at__isnull=False).aggregate(
        at=Min("batched_at"))["at"]
    if oldest_batch:
        candidates.append(oldest_batch + BATCH_LEASE)
    if candidates:
        schedule(dispatch_id, at=min(candidates))
