"""Work that must not live only in Redis. Redis holds RQ's queues and scheduled jobs; when it
restarts empty they are gone, while the database still says what is unfinished. So, every
RECOVERY_SWEEP_SECONDS, one worker of the cluster (whichever takes the Redis lock first) runs
the sweeps listed in settings.RECOVERY_SWEEPS: each reads the database and enqueues again what
should be queued. A sweep must be idempotent and cheap when nothing is lost: a task it
enqueues a second time must find its work done or claimed, never do it twice.
"""

import logging

from django.conf import settings
from django.db import close_old_connections
from django.utils.module_loading import import_string
from rq.registry import ScheduledJobRegistry, StartedJobRegistry

logger = logging.getLogger(__name__)

LOCK_KEY = "campaignid:recovery-sweep"


def interval():
    return float(getattr(settings, "RECOVERY_SWEEP_SECONDS", 30))


def run_due_sweeps(redis_connection):
    """Runs the sweeps if no worker did in the last interval(); True when they ran."""
    seconds = interval()
    if seconds > 0 and not redis_connection.set(LOCK_KEY, "1", nx=True, px=int(seconds * 1000)):
        return False
    close_old_connections()
    for path in getattr(settings, "RECOVERY_SWEEPS", ()):
        try:
            import_string(path)()
        except Exception:  # one broken sweep must not stop the others, nor the worker
            logger.exception("recovery sweep %s failed", path)
    close_old_connections()
    return True


def task_ids(queue):
    """The ids of the tasks Redis still holds for `queue` (an RQ Queue): waiting, running or
    scheduled. What a sweep compares with the database to find lost work."""
    return [*queue.get_job_ids(), *StartedJobRegistry(queue=queue).get_job_ids(),
            *ScheduledJobRegistry(queue=queue).get_job_ids()]
