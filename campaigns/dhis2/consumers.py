"""WebSocket /ws/dhis2/syncs/<id>?token=<api key>: a sync run's snapshot, then its events."""

from campaignid.live import ProgramObjectConsumer
from campaigns.dhis2.events import event_of, sync_group
from campaigns.models import Dhis2SyncRun


class SyncProgressConsumer(ProgramObjectConsumer):
    url_kwarg = "run_id"
    sync_event = ProgramObjectConsumer.forward_event

    def group_for(self, object_id):
        return sync_group(object_id)

    def snapshot_for(self, access, object_id):
        run = (
            Dhis2SyncRun.objects.for_program(access.program).select_related("created_by")
            .filter(pk=object_id).first()
        )
        return event_of(run) if run else None
