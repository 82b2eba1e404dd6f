"""A turn of a run's pump: settle dead claims, respect the send window, hand out due
recipients in batches (RQ jobs on the "dispatch" queue, enqueued by dotted path), schedule the
next turn (distribution.dispatch.wakeups).
"""

import uuid

import django_rq
from django.db import connection
from django.db.models import Q

from campaignid.bulk_sql import server_side_cursor
from distribution.dispatch import clock, liveness, retry_policy, runs, wakeups
from distribution.dispatch.liveness import BATCH_LEASE
from distribution.dispatch.send_window import SendWindow
from distribution.models import Dispatch, DispatchRecipient

RStatus = DispatchRecipient.Status
Status = Dispatch.Status
MAX_PER_TURN = 20_000
BATCH_TIMEOUT = 3600
SEND_BATCH_TASK = "distribution.dispatch.tasks.send_batch"


def batch_size(dispatch):
    """About ten seconds of sending at the run's rate, between 10 and 500 recipients (each
    batch costs a job, a provider client, a heartbeat and its run's bookkeeping: at 100 a
    batch that was a sixth of a fast run's CPU)."""
    return max(10, min(500, dispatch.rate_limit_per_second * 10))


def pump_once(*, dispatch_id):
    """One turn of the pump: settle dead claims, respect the
    window, hand out due recipients in batches, schedule the next turn."""
    dispatch = Dispatch.objects.select_related("campaign__program").filter(pk=dispatch_id).first()
    if dispatch is None or dispatch.status != Status.RUNNING:
        return
    liveness.settle_dead_claims(dispatch_id=dispatch_id)
    now = clock.now()
    window = SendWindow.of(dispatch, dispatch.campaign.program)
    if not window.contains(now):
        opening = window.next_opening(now)
        runs.dispatch_set_waiting(dispatch_id=dispatch_id, until=opening)
        if opening is not None:
            wakeups.schedule(dispatch_id, at=opening)
        return
    runs.dispatch_set_waiting(dispatch_id=dispatch_id, until=None)
    handed_out = hand_out(dispatch=dispatch, now=now, size=batch_size(dispatch))
    if handed_out >= MAX_PER_TURN:
        wakeups.schedule(dispatch_id)  # more are due: another turn after these batches
        return
    if not runs.dispatch_finish_if_complete(dispatch_id=dispatch_id):
        wakeups.schedule_next_turn(dispatch_id=dispatch_id)


def _mark_batched(ids, now):
    """batched_at = now on these recipients. On PostgreSQL the ids are one array parameter:
    up to MAX_PER_TURN of them spelled out as `IN (%s, ...)` cost the pump more CPU to turn
    into SQL than the update cost PostgreSQL."""
    if connection.vendor != "postgresql":
        DispatchRecipient.objects.filter(pk__in=ids).update(batched_at=now)
        return
    table = connection.ops.quote_name(DispatchRecipient._meta.db_table)
    with server_side_cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET batched_at = %s WHERE id = ANY(%s)",  # noqa: S608
                       [now, ids])


def hand_out(*, dispatch, now, size):
    """Due recipients -> batches of `size` per channel, each an RQ job; returns how many."""
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
    _mark_batched([pk for pk, _ in due], now)
    queue = django_rq.get_queue(wakeups.QUEUE)
    queue.enqueue_many([
        queue.prepare_data(
            SEND_BATCH_TASK,
            args=(dispatch.pk, channel, ids),
            job_id=f"dispatch{dispatch.pk}-batch-{uuid.uuid4().hex[:12]}",
            timeout=BATCH_TIMEOUT,
            result_ttl=wakeups.RESULT_TTL,
            failure_ttl=wakeups.FAILURE_TTL,
            # A worker killed mid-batch: RQ runs the batch again elsewhere; its claims make
            # that safe (see distribution.dispatch.batch_sender).
            retry=retry_policy.batch_job_retry(),
        )
        for channel, ids in batches
    ])
    return len(due)
