"""How the generation tasks (cards/tasks.py) are queued: timeout, retries and the failure
callback, named by dotted path so the services that enqueue them need not import the tasks."""

from campaignid.task_failures import retrying

QUEUE = "cards"
TASK_TIMEOUT = 1800

# Chunks retry at once: the usual reason is a worker that died, and its chunk is idempotent.
RETRYABLE = retrying("cards.tasks.on_task_failure")
