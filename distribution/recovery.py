"""Recovery sweep of dispatch runs (campaignid/recovery.py): a running run whose next pump turn
and batches Redis no longer knows (it restarted empty) is pumped again, its lost batches handed
out again. Claims stay exclusive (distribution.dispatch.claiming), so a batch that was not
lost after all sends nothing twice."""

from datetime import timedelta

import django_rq
from rq.registry import ScheduledJobRegistry, StartedJobRegistry

from distribution import tokens
from distribution.dispatch import clock, wakeups
from distribution.models import Dispatch, DispatchRecipient

# A batch handed out this recently may still be on its way into the queue.
HANDED_OUT_GRACE = timedelta(seconds=60)


def resume_running_dispatches():
    running = list(Dispatch.objects.filter(status=Dispatch.Status.RUNNING)
                   .values_list("pk", flat=True))
    if not running:
        return []
    lost = [pk for pk in running if pk not in _known_to_redis(running)]
    for dispatch_id in lost:
        DispatchRecipient.objects.filter(
            dispatch_id=dispatch_id, status=DispatchRecipient.Status.QUEUED,
            batched_at__lt=clock.now() - HANDED_OUT_GRACE,
        ).update(batched_at=None)
        wakeups.schedule(dispatch_id)
    return lost


def _known_to_redis(dispatch_ids):
    """The runs with a pump turn promised or a batch queued, running or scheduled."""
    r = tokens.connection()
    with r.pipeline(transaction=False) as pipe:
        for pk in dispatch_ids:
            pipe.exists(f"distribution:pump-due:{pk}", f"distribution:pump-queued:{pk}")
        known = {pk for pk, found in zip(dispatch_ids, pipe.execute(), strict=True) if found}
    queue = django_rq.get_queue(wakeups.QUEUE)
    job_ids = [*queue.get_job_ids(), *StartedJobRegistry(queue=queue).get_job_ids(),
               *ScheduledJobRegistry(queue=queue).get_job_ids()]
    for job_id in job_ids:
        head, sep, _rest = job_id.partition("-batch-")
        if sep and head.startswith("dispatch") and head[8:].isdigit():
            known.add(int(head[8:]))
    return known
