"""The RQ worker every `rqworker` process runs (settings.RQ["WORKER_CLASS"]).

It runs jobs in its own process instead of forking one per job, so what a card renderer
builds once per process (fonts, parsed CSS, the back of the card, the PNG palette) serves
every chunk after the first. A thread keeps the heartbeat going while a job runs; the
heartbeat lives only a few seconds, so when a worker is killed, another worker sees its job
abandoned within seconds (maintenance every few seconds) and RQ retries it there. Its
maintenance also runs the recovery sweeps (campaignid/recovery.py) that re-derive from the
database what Redis lost.
"""

import logging
import threading

from django.db import close_old_connections
from rq.worker import SimpleWorker, WorkerStatus

from campaignid import recovery

logger = logging.getLogger(__name__)


class CampaignWorker(SimpleWorker):
    heartbeat_seconds = 3

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("maintenance_interval", 5)
        kwargs.setdefault("job_monitoring_interval", self.heartbeat_seconds)
        super().__init__(*args, **kwargs)
        self._heartbeat_stop = None
        self._heartbeat_thread = None

    def get_heartbeat_ttl(self, job):
        return self.heartbeat_seconds * 4

    @property
    def dequeue_timeout(self):
        # An idle worker runs maintenance only when its blocking dequeue times out: keep
        # that short, so an abandoned job is retried even when nothing else is queued.
        return min(super().dequeue_timeout, self.maintenance_interval)

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        # Busy while the sweeps run: a stop asked meanwhile (SIGTERM) then waits for them as
        # it waits for a job, instead of raising StopRequested inside a sweep, whose error
        # handling would swallow it and leave the worker running (seen: a stopped worker
        # went on rendering the next job's chunks).
        state = self.get_state()
        self.set_state(WorkerStatus.BUSY)
        try:
            recovery.run_due_sweeps(self.connection)
        finally:
            self.set_state(state)

    def execute_job(self, job, queue):
        close_old_connections()
        self._heartbeat_stop = threading.Event()
        self._heartbeat_thread = threading.Thread(
            target=self._beat, args=(job, self._heartbeat_stop), daemon=True
        )
        self._heartbeat_thread.start()
        try:
            super().execute_job(job, queue)
        finally:
            self._stop_heartbeat()
            close_old_connections()

    def handle_execution_ended(self, job, queue, heartbeat_ttl):
        # The job's function has returned: stop beating before RQ records the outcome, so a
        # late beat can never put a finished job back in the started registry.
        self._stop_heartbeat()
        super().handle_execution_ended(job, queue, heartbeat_ttl)

    def _beat(self, job, stop):
        while not stop.wait(self.heartbeat_seconds):
            if getattr(self, "execution", None) is None:
                continue
            try:
                self.maintain_heartbeats(job)
            except Exception:
                logger.exception("heartbeat for RQ job %s failed", job.id)

    def _stop_heartbeat(self):
        if self._heartbeat_stop is not None:
            self._heartbeat_stop.set()
            self._heartbeat_thread.join()
            self._heartbeat_stop = None
