"""WebSocket /ws/dispatches/<id>?token=<api key>: a dispatch run's snapshot, then its events."""

from campaigns.access import Need, object_for
from campaigns.live import ProgramObjectConsumer
from distribution.dispatch.live_events import dispatch_group
from distribution.dispatch.progress import dispatch_snapshot
from distribution.models import Dispatch


class DispatchProgressConsumer(ProgramObjectConsumer):
    url_kwarg = "dispatch_id"

    def group_for(self, object_id):
        return dispatch_group(object_id)

    def snapshot_for(self, access, object_id):
        dispatch = object_for(access, Dispatch.objects.select_related("campaign"), Need.READ,
                              pk=object_id)
        return dispatch_snapshot(dispatch)
