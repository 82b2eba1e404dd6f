"""What a run has done so far: its counters, and the snapshot clients are shown (the same
from the API and over the socket)."""

import math

from django.db.models import Count, Q

from distribution.models import Dispatch, DispatchRecipient

Status = Dispatch.Status
RStatus = DispatchRecipient.Status


def dispatch_counters(dispatch):
    """total, contacted, remaining, to_retry, failed, succeeded, skipped, progress (0-100)
    and the skipped ones by reason. One grouped pass over the run's recipients."""
    counts = dict.fromkeys(
        ("total", "contacted", "remaining", "to_retry", "failed", "succeeded", "skipped"), 0)
    reasons = {}
    groups = (
        DispatchRecipient.objects.filter(dispatch_id=dispatch.pk)
        .values_list("status", "skip_reason")
        .annotate(n=Count("pk"), tried=Count("pk", filter=Q(tries__gt=0)))
        .order_by()
    )
    for status, reason, n, tried in groups:
        counts["total"] += n
        counts["contacted"] += tried
        if status in (RStatus.QUEUED, RStatus.SENDING):
            counts["remaining"] += n
            if status == RStatus.QUEUED:
                counts["to_retry"] += tried
        else:
            counts[status] += n
        if status == RStatus.SKIPPED:
            reasons[reason] = reasons.get(reason, 0) + n
    finished = counts["failed"] + counts["succeeded"] + counts["skipped"]
    if counts["total"]:
        counts["progress"] = math.floor(100 * finished / counts["total"])
    else:
        counts["progress"] = 100 if dispatch.status == Status.DONE else 0
    counts["skipped_reasons"] = reasons
    return counts


def dispatch_snapshot(dispatch):
    """What clients are told about a run: the same shape from the API and over the socket."""
    event = "done" if dispatch.status == Status.DONE else "progress"
    return {
        "event": event,
        "dispatch_id": dispatch.pk,
        "campaign_id": dispatch.campaign_id,
        "status": dispatch.status,
        "pause_reason": dispatch.pause_reason,
        "waiting_until": dispatch.waiting_until.isoformat() if dispatch.waiting_until else None,
        "finish_reason": dispatch.finish_reason,
        **dispatch_counters(dispatch),
    }
