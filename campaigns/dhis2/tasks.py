"""RQ task of a DHIS2 sync (queue `dhis2`), enqueued by campaigns.dhis2.sync.enqueue_sync with
its retries. It takes the run's id and calls the service, which re-reads the run: a retry after
a killed worker resumes at the first page not yet written."""

import logging

from campaigns.dhis2 import sync

logger = logging.getLogger(__name__)


def on_task_failure(rq_job, connection, exc_type, exc_value, traceback):
    """While retries remain RQ runs the task again (elsewhere); after the last one the run
    fails, keeping the pages it wrote."""
    if rq_job.retries_left:
        return
    run_id = rq_job.args[0]
    logger.error("DHIS2 sync %s failed: %s", run_id, exc_value)
    name = type(exc_value).__name__
    if name == "AbandonedJobError":
        error = "A worker stopped in the middle of this import several times; giving up."
    else:
        error = f"{name}: {exc_value}" if str(exc_value) else name
    sync.sync_fail(run_id=run_id, error=error)


def sync_run(run_id):
    sync.sync_execute(run_id=run_id)
