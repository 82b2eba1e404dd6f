"""Live job events on the channel layer group "job-<id>", sent after the commit that made
them true. Progress events are throttled per job so a 200-chunk job does not flood sockets."""

import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.urls import reverse

from campaigns.models import Job

PROGRESS_EVENTS_PER_SECOND = 4
_last_sent = {}


def job_group(job_id):
    return f"job-{job_id}"


def artifact_urls(job):
    if job.status != Job.Status.COMPLETED:
        return {}
    return {
        kind: reverse("api-job-download", kwargs={"pk": job.pk, "artifact": kind})
        for kind in ("pdf", "zip", "manifest", "portal")
        if getattr(job, kind)
    }


def job_snapshot(job):
    """What a client is told about a job: the same shape on connect and in every event."""
    event = {
        Job.Status.COMPLETED: "completed",
        Job.Status.FAILED: "failed",
        Job.Status.CANCELLED: "cancelled",
    }.get(job.status, "progress")
    data = {
        "event": event,
        "job_id": job.pk,
        "status": job.status,
        "progress": job.progress,
        "cards_generated": job.cards_generated,
        "total_cards": job.total_cards,
        "eta_seconds": job.eta_seconds,
    }
    if job.status == Job.Status.COMPLETED:
        data["artifacts"] = artifact_urls(job)
    if job.error:
        data["error"] = job.error
    return data


def send_job_event_on_commit(job_id, *, final=False):
    """Re-read the job after commit and publish it; intermediate progress is throttled."""

    def send():
        now = time.monotonic()
        if not final and now - _last_sent.get(job_id, 0) < 1 / PROGRESS_EVENTS_PER_SECOND:
            return
        _last_sent[job_id] = now
        job = Job.objects.filter(pk=job_id).first()
        if job is None:
            return
        layer = get_channel_layer()
        async_to_sync(layer.group_send)(
            job_group(job_id), {"type": "job.event", "data": job_snapshot(job)}
        )

    transaction.on_commit(send)
