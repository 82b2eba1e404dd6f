"""How the generation tasks (cards/tasks.py) are queued: timeout, retries and the failure
callback, named by dotted path so the services that enqueue them need not import the tasks."""

from rq import Callback, Retry

QUEUE = "cards"
TASK_TIMEOUT = 1800

# Chunks retry at once: the usual reason is a worker that died, and its chunk is idempotent.
RETRYABLE = {
    "retry": Retry(max=3),
    "on_failure": Callback("cards.tasks.on_task_failure"),
    "result_ttl": 600,
    "failure_ttl": 7 * 24 * 3600,
}
