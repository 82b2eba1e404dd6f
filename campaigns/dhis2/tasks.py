"""RQ task of a DHIS2 sync (queue `dhis2`), enqueued by campaigns.dhis2.sync.enqueue_sync with
its retries. It takes the run's id and calls the service, which re-reads the run: a retry after
a killed worker resumes at the first page not yet written."""

import logging

from campaignid.task_failures import final_error
from campaigns.dhis2 import sync

logger = logging.getLogger(__name__)


def on_task_failure(rq_job, connection, exc_type, exc_value, traceback):
    """After the last retry the run fails, keeping the pages it wrote."""
    error = final_error(rq_job, exc_value, abandoned=ABANDONED)
    if error is None:
        return
    run_id = rq_job.args[0]
    logger.error("DHIS2 sync %s failed: %s", run_id, exc_value)
    sync.sync_fail(run_id=run_id, error=error)


ABANDONED = "A worker stopped in the middle of this import several times; giving up."


def sync_run(run_id):
    sync.sync_execute(run_id=run_id)
