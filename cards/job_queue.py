"""How the generation tasks (cards/tasks.py) are queued: timeout, retries and the failure
callback, named by dotted path so the services that enqueue them need not import the tasks."""

import django_rq

from campaignid.task_failures import retrying

QUEUE = "cards"
TASK_TIMEOUT = 1800

# Chunks retry at once: the usual reason is a worker that died, and its chunk is idempotent.
RETRYABLE = retrying("cards.tasks.on_task_failure")


def enqueue_chunks(job_id, indexes):
    """One task per chunk of the job, each with its fixed id (a chunk queued twice renders the
    same files and counts its cards once)."""
    if not indexes:
        return
    queue = django_rq.get_queue(QUEUE)
    queue.enqueue_many([
        queue.prepare_data("cards.tasks.chunk_render", args=(job_id, index),
                           job_id=f"job{job_id}-chunk{index}", timeout=TASK_TIMEOUT,
                           **RETRYABLE)
        for index in indexes
    ])


def enqueue_package(job_id):
    django_rq.get_queue(QUEUE).enqueue(
        "cards.tasks.job_package", job_id, job_id=f"job{job_id}-package",
        job_timeout=TASK_TIMEOUT, **RETRYABLE,
    )
