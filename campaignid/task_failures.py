"""The one failure rule of RQ tasks that work on an object (a generation job, a DHIS2 sync):
run again at once up to MAX_RETRIES times, since the usual cause is a worker that died and
the tasks are idempotent; after the last attempt the object fails with a readable error."""

from rq import Callback, Retry

MAX_RETRIES = 3


def retrying(on_failure):
    """Enqueue options for such a task. `on_failure` is the dotted path of a function with
    RQ's failure-callback signature that calls `final_error` (a path, so whoever enqueues
    need not import the tasks)."""
    return {
        "retry": Retry(max=MAX_RETRIES),
        "on_failure": Callback(on_failure),
        "result_ttl": 600,
        "failure_ttl": 7 * 24 * 3600,
    }


def final_error(rq_job, exc_value, *, abandoned):
    """None while RQ will run the task again; after the last attempt, the error to record:
    `abandoned` when workers kept dying under it, else the exception in one line."""
    if rq_job.retries_left:
        return None
    name = type(exc_value).__name__
    if name == "AbandonedJobError":
        return abandoned
    return f"{name}: {exc_value}" if str(exc_value) else name
