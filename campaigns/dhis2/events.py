"""Live DHIS2 sync events on the channel-layer group "dhis2-sync-<id>", sent after the commit
that made them true, through the one sender (campaignid/live_events.py), which throttles page
events so a fast sync does not flood sockets."""

from django.urls import reverse

from campaignid.live_events import live_event_on_commit
from campaigns.dhis2.models import Dhis2SyncRun


def sync_group(run_id):
    return f"dhis2-sync-{run_id}"


def run_snapshot(run):
    """The run as the API, the socket and the page show it."""
    progress = 0
    if run.status == Dhis2SyncRun.Status.COMPLETED:
        progress = 100
    elif run.page_count:
        progress = min(99, 100 * run.pages_done // run.page_count)
    return {
        "id": run.pk,
        "campaign_id": run.campaign_id,
        "status": run.status,
        "full": run.full,
        "created": run.created_count,
        "updated": run.updated_count,
        "unchanged": run.unchanged_count,
        "skipped": run.skipped_count,
        "pages_done": run.pages_done,
        "page_count": run.page_count,
        "total": run.total,
        "progress": progress,
        "errors_url": reverse("api-dhis2-sync-errors", kwargs={"pk": run.pk})
        if run.skipped_count else None,
        "error": run.error,
        "updated_after": run.updated_after,
        "updated_before": run.updated_before,
        "created_by": run.created_by.get_username() if run.created_by_id else None,
        "created_at": _iso(run.created_at),
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
    }


def event_of(run):
    event = {
        Dhis2SyncRun.Status.COMPLETED: "completed",
        Dhis2SyncRun.Status.FAILED: "failed",
    }.get(run.status, "progress")
    return {"event": event, **run_snapshot(run)}


def send_sync_event_on_commit(run_id, *, final=False):
    """Re-read the run after commit and publish it; page-by-page progress is throttled."""

    def snapshot():
        run = Dhis2SyncRun.objects.select_related("created_by").filter(pk=run_id).first()
        return event_of(run) if run is not None else None

    live_event_on_commit(group=sync_group(run_id), snapshot=snapshot, final=final)


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z") if moment else None
