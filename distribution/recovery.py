"""Recovery sweep of dispatch runs (campaignid/recovery.py): recipients handed to a batch that
no queued, running or scheduled task holds any more (Redis restarted empty, or the batch task
failed for good) are handed out again at once instead of after the pump's BATCH_LEASE, and a
running run whose next pump turn Redis no longer knows is pumped again. Claims stay exclusive
(distribution.dispatch.claiming), so a batch that was not lost after all sends nothing
twice."""

from datetime import timedelta

import django_rq
from rq.job import Job as RqJob

from campaignid.recovery import task_ids
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
    pumped, held = _known_to_redis(running)
    resumed = []
    for dispatch_id in running:
        handed_out = DispatchRecipient.objects.filter(
            dispatch_id=dispatch_id, status=DispatchRecipient.Status.QUEUED,
            batched_at__lt=clock.now() - HANDED_OUT_GRACE,
        ).values_list("pk", flat=True)
        orphans = [pk for pk in handed_out if pk not in held.get(dispatch_id, ())]
        if orphans:
            DispatchRecipient.objects.filter(pk__in=orphans).update(batched_at=None)
        if orphans or dispatch_id not in pumped:
            wakeups.schedule(dispatch_id)
            resumed.append(dispatch_id)
    return resumed


def _known_to_redis(dispatch_ids):
    """({runs with a pump turn promised}, {run: recipient ids a live batch task holds})."""
    r = tokens.connection()
    with r.pipeline(transaction=False) as pipe:
        for pk in dispatch_ids:
            pipe.exists(f"distribution:pump-due:{pk}", f"distribution:pump-queued:{pk}")
        pumped = {pk for pk, found in zip(dispatch_ids, pipe.execute(), strict=True) if found}
    queue = django_rq.get_queue(wakeups.QUEUE)
    batches = [i for i in task_ids(queue) if "-batch-" in i]
    held = {}
    for task in RqJob.fetch_many(batches, connection=queue.connection):
        if task is not None and len(task.args) == 3:
            dispatch_id, _channel, recipient_ids = task.args
            held.setdefault(dispatch_id, set()).update(recipient_ids)
    return pumped, held
