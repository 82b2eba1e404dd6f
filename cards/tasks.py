"""RQ tasks of a generation job. Each takes ids, re-reads the truth and calls services, so a
task that runs twice (a retry, a worker killed mid-chunk) writes the same files and counts
its cards once.

  job_prepare: assign codes + sign tokens (once) batch by batch, recording each batch's
      chunks and enqueueing one RQ job per chunk as soon as the batch commits
  chunk_render: render a chunk's cards to PDF pages and PNGs, store them, count them
  job_package: when the last chunk is counted, merge into the job's artifacts
"""

import logging

from campaignid.task_failures import final_error
from campaigns.models import Job
from cards import generation, packaging, preparing, stage_timings
from cards.job_queue import enqueue_chunks, enqueue_package
from cards.rendering.errors import CardRenderError

logger = logging.getLogger(__name__)


def on_task_failure(rq_job, connection, exc_type, exc_value, traceback):
    """Called by RQ when a task raised or its worker died; after the last retry the
    generation job fails and is refunded."""
    error = final_error(rq_job, exc_value, abandoned=ABANDONED)
    if error is None:
        return
    job_id = rq_job.args[0]
    logger.error("generation job %s failed in %s: %s", job_id, rq_job.func_name, exc_value)
    generation.job_fail(job_id=job_id, error=error)


ABANDONED = "A worker stopped in the middle of this job several times; giving up."


def job_prepare(job_id):
    with stage_timings.span(job_id, "prepare"):
        _job_prepare(job_id)


def _job_prepare(job_id):
    if not generation.job_start(job_id=job_id):
        return
    job = Job.objects.select_related("campaign__program").get(pk=job_id)
    # What an earlier run recorded may never have been queued (it stopped in between).
    enqueue_chunks(job_id, preparing.unfinished_chunks(job=job))
    for chunks in preparing.job_issue_batches(job=job):
        enqueue_chunks(job_id, [chunk.index for chunk in chunks])
    if preparing.job_prepared(job_id=job_id):
        enqueue_package(job_id)


def chunk_render(job_id, index):
    with stage_timings.span(job_id, f"chunk {index}"):
        _chunk_render(job_id, index)


def _chunk_render(job_id, index):
    job = Job.objects.select_related("campaign__program").get(pk=job_id)
    # Processing: the job's later cards are still being issued, this chunk's are.
    if job.status not in (Job.Status.PROCESSING, Job.Status.GENERATING):
        return
    try:
        packaging.render_chunk(job, index)
    except CardRenderError as exc:
        # A template that cannot render will not render on a retry either.
        generation.job_fail(job_id=job_id, error=f"The card template could not be rendered: {exc}")
        return
    if generation.job_chunk_done(job_id=job_id, index=index):
        enqueue_package(job_id)


def job_package(job_id):
    with stage_timings.span(job_id, "package"):
        _job_package(job_id)


def _job_package(job_id):
    if not generation.job_packaging(job_id=job_id):
        return
    job = Job.objects.select_related("campaign__program").get(pk=job_id)
    artifacts = packaging.build_artifacts(job)
    if generation.job_complete(job_id=job_id, artifacts=artifacts).is_final:
        packaging.delete_chunks(job)
