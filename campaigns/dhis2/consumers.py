"""WebSocket /ws/dhis2/syncs/<id>?token=<api key>: a sync run's snapshot, then its events."""

from campaigns.access import Need, object_for
from campaigns.dhis2.events import event_of, sync_group
from campaigns.dhis2.models import Dhis2SyncRun
from campaigns.live import ProgramObjectConsumer


class SyncProgressConsumer(ProgramObjectConsumer):
    url_kwarg = "run_id"

    def group_for(self, object_id):
        return sync_group(object_id)

    def snapshot_for(self, access, object_id):
        run = object_for(access, Dhis2SyncRun.objects.select_related("created_by"), Need.READ,
                         pk=object_id)
        return event_of(run)
