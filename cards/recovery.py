"""Recovery sweep of generation jobs (campaignid/recovery.py): a job in progress of which Redis
knows no task (it restarted empty) gets its next tasks queued again from what the database
says: prepare while pending or processing (it queues again the unfinished chunks of the
batches already issued, then issues the rest), the unfinished chunks while generating,
packaging after. Every
task is idempotent (cards/tasks.py), so a job that was not lost after all only renders a
chunk twice, never issues or charges a card twice."""

import re
from datetime import timedelta

import django_rq
from django.utils import timezone

from campaignid.recovery import task_ids
from campaigns.models import Job
from cards.generation import enqueue_job_prepare
from cards.job_queue import QUEUE, enqueue_chunks, enqueue_package

# A job this young may be between its commit and its first enqueue.
GRACE = timedelta(minutes=1)
_TASK_ID = re.compile(r"^job(\d+)-")


def resume_unfinished_jobs():
    jobs = list(Job.objects.exclude(status__in=Job.FINAL_STATUSES)
                .filter(created_at__lt=timezone.now() - GRACE).values_list("pk", "status"))
    if not jobs:
        return []
    known = _jobs_known_to_redis()
    lost = [(pk, status) for pk, status in jobs if pk not in known]
    for pk, status in lost:
        _queue_next_tasks(pk, status)
    return [pk for pk, _status in lost]


def _queue_next_tasks(job_id, status):
    if status in (Job.Status.PENDING, Job.Status.PROCESSING):
        enqueue_job_prepare(job_id)
        return
    unfinished = list(Job.objects.get(pk=job_id).chunks.filter(finished_at__isnull=True)
                      .values_list("index", flat=True))
    if status == Job.Status.PACKAGING or not unfinished:
        enqueue_package(job_id)
    else:
        enqueue_chunks(job_id, unfinished)


def _jobs_known_to_redis():
    held = task_ids(django_rq.get_queue(QUEUE))
    return {int(m.group(1)) for m in map(_TASK_ID.match, held) if m}
