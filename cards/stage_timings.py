"""Where a generation job's time went, per stage, summed over every worker that touched it.

Kept in Redis beside the job (a week) so operators and bench/generate.py can see the
bottleneck of a real job: sign, qr, layout_pdf, raster, png, store, merge_pdf, merge_zip,
manifest, portal.
"""

import time
from contextlib import contextmanager

import django_rq

TTL_SECONDS = 7 * 24 * 3600


def _key(job_id):
    return f"campaignid:job:{job_id}:timings"


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


def read(job_id):
    raw = django_rq.get_connection("cards").hgetall(_key(job_id))
    return {key.decode(): float(value) for key, value in raw.items()}
