"""Where a generation job's time went, per stage, summed over every worker that touched it,
and when each of its tasks ran.

Kept in Redis beside the job (a week) so operators and bench/generate.py can see the
bottleneck of a real job: sign, qr, layout_pdf, raster, png, store, merge_pdf, merge_zip,
manifest, portal; and its timeline (prepare, each chunk, packaging: which worker, from when
to when), where the time one worker waits for another shows.
"""

import os
import time
from contextlib import contextmanager

import django_rq

TTL_SECONDS = 7 * 24 * 3600


def _key(job_id):
    return f"campaignid:job:{job_id}:timings"


def _spans_key(job_id):
    return f"campaignid:job:{job_id}:spans"


def record(job_id, **seconds):
    connection = django_rq.get_connection("cards")
    with connection.pipeline() as pipe:
        for stage, value in seconds.items():
            pipe.hincrbyfloat(_key(job_id), stage, value)
        pipe.expire(_key(job_id), TTL_SECONDS)
        pipe.execute()


@contextmanager
def timed(job_id, stage):
    started = time.perf_counter()
    yield
    record(job_id, **{stage: time.perf_counter() - started})


@contextmanager
def span(job_id, task):
    """Note that this process ran `task` (prepare, chunk 12, package) from now until the block
    ends, even when it raised: wall-clock times, comparable across the machine's workers."""
    started = time.time()
    try:
        yield
    finally:
        connection = django_rq.get_connection("cards")
        with connection.pipeline() as pipe:
            pipe.rpush(_spans_key(job_id), f"{task}\t{os.getpid()}\t{started}\t{time.time()}")
            pipe.expire(_spans_key(job_id), TTL_SECONDS)
            pipe.execute()


def read(job_id):
    raw = django_rq.get_connection("cards").hgetall(_key(job_id))
    return {key.decode(): float(value) for key, value in raw.items()}


def read_spans(job_id):
    """[(task, worker pid, started, ended)] in the order they ended."""
    raw = django_rq.get_connection("cards").lrange(_spans_key(job_id), 0, -1)
    spans = []
    for item in raw:
        task, pid, started, ended = item.decode().split("\t")
        spans.append((task, int(pid), float(started), float(ended)))
    return spans
