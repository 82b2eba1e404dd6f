"""Live job events on the channel layer group "job-<id>", sent after the commit that made
them true, through the one sender (campaignid/live_events.py), which throttles progress so a
200-chunk job does not flood sockets."""

from django.urls import reverse

from campaignid.live_events import live_event_on_commit
from campaigns.models import Job


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

    def snapshot():
        job = Job.objects.filter(pk=job_id).first()
        return job_snapshot(job) if job is not None else None

    live_event_on_commit(group=job_group(job_id), snapshot=snapshot, final=final)
