"""WebSocket /ws/jobs/<job_id>?token=<api key>: a generation job's snapshot, then its events."""

from campaigns.access import Need, object_for
from campaigns.live import ProgramObjectConsumer
from campaigns.models import Job
from cards.events import job_group, job_snapshot


class JobProgressConsumer(ProgramObjectConsumer):
    url_kwarg = "job_id"

    def group_for(self, object_id):
        return job_group(object_id)

    def snapshot_for(self, access, object_id):
        # Status, counts and the download addresses name nobody (the downloads check PEOPLE).
        return job_snapshot(object_for(access, Job.objects.all(), Need.READ, pk=object_id))
