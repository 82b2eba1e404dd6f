"""Live dispatch events on the channel-layer group "dispatch-<id>", through the one sender
(campaignid/live_events.py: after commit, progress throttled)."""

from campaignid.live_events import live_event_on_commit
from distribution.dispatch.progress import dispatch_snapshot
from distribution.models import Dispatch


def dispatch_group(dispatch_id):
    return f"dispatch-{dispatch_id}"


def send_dispatch_event_on_commit(dispatch_id, *, final=False):
    def snapshot():
        dispatch = Dispatch.objects.select_related("campaign").filter(pk=dispatch_id).first()
        return dispatch_snapshot(dispatch) if dispatch is not None else None

    live_event_on_commit(group=dispatch_group(dispatch_id), snapshot=snapshot, final=final)
