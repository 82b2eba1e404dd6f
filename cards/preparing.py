"""Preparing a job: its cards issued (codes, signed tokens) and its chunks recorded, batch by
batch in card order, each batch in one transaction. The tasks queue a batch's chunks as soon
as it commits, so the other workers render them while later batches are still being signed.

Exactly once, however often a preparation runs (a retry, a killed worker, two at a time):
a batch starts after the last recorded chunk, under the job's row lock, and never issues a
second card to a beneficiary who has one of this job. A job counts as prepared (processing
-> generating) only when every batch is in, so packaging never starts on part of a job.
"""

from django.db import transaction

from campaigns.models import Job, JobChunk
from cards import stage_timings
from cards.events import send_job_event_on_commit
from cards.issuing import CardIssuer
from cards.models import Card

# Small enough that the first chunks are queued within a fraction of a second (and the job
# row, which finishing chunks also lock, is held briefly); large enough that its queries
# stay few. Whole chunks of the default size.
ISSUE_BATCH = 500


def job_issue_batches(*, job, size=None):
    """Issue the job's cards batch by batch; yields each batch's chunks once committed. Stops
    when every beneficiary was seen, or the job is no longer processing (it ended, or another
    preparation finished it)."""
    issuer = CardIssuer(job)
    after = 0
    while True:
        with stage_timings.timed(job.pk, "sign"):
            step = job_issue_batch(job=job, issuer=issuer, after=after, size=size or ISSUE_BATCH)
        if step is None:
            return
        chunks, after = step
        yield chunks


def job_issue_batch(*, job, issuer, after, size):
    """Cards for the next `size` beneficiaries after id `after` (or after the last recorded
    chunk, if further), and their chunks: (chunks, the last beneficiary id seen), or None when
    none is left or the job is not processing."""
    with transaction.atomic():
        locked = Job.objects.select_for_update().only("pk", "status").get(pk=job.pk)
        if locked.status != Job.Status.PROCESSING:
            return None
        last = job.chunks.order_by("-index").first()
        if last is not None:
            after = max(after, last.last_beneficiary_id)
        batch, through = _next_beneficiaries(job, after, size)
        if through is None:
            return None
        carded = set(Card.objects.filter(job=job, beneficiary_id__in=[b.pk for b in batch])
                     .values_list("beneficiary_id", flat=True))
        if len(carded) < len(batch):
            issuer.insert([b for b in batch if b.pk not in carded])
        # Chunks of the cards of this range, those just issued and any an older release issued
        # without recording their chunks; someone left out at issue time has no card.
        ids = list(Card.objects.filter(job=job, beneficiary_id__gt=after,
                                       beneficiary_id__lte=through)
                   .order_by("beneficiary_id").values_list("beneficiary_id", flat=True))
        chunks = _chunks(job, ids, index=last.index + 1 if last else 0,
                         first_card=last.first_card + last.card_count if last else 0)
        JobChunk.objects.bulk_create(chunks)
    return chunks, through


def _next_beneficiaries(job, after, size):
    """(up to `size` of the job's beneficiaries after id `after`, in id order; the last id
    they cover, None when none is left)."""
    people = job.campaign.beneficiaries.order_by("pk")
    if job.beneficiary_ids is None:
        batch = list(people.filter(pk__gt=after, pk__lte=job.up_to_beneficiary_id)[:size])
        return batch, batch[-1].pk if batch else None
    # Chosen people: the next ids of the list, not the whole list in every query. One
    # removed since the job was accepted is skipped, and the batch goes on past it.
    ids = sorted(pk for pk in job.beneficiary_ids if pk > after)[:size]
    return list(people.filter(pk__in=ids)), ids[-1] if ids else None


def _chunks(job, beneficiary_ids, *, index, first_card):
    size = job.chunk_size
    chunks = []
    for start in range(0, len(beneficiary_ids), size):
        ids = beneficiary_ids[start : start + size]
        chunks.append(JobChunk(job=job, index=index, first_card=first_card + start,
                               card_count=len(ids), first_beneficiary_id=ids[0],
                               last_beneficiary_id=ids[-1]))
        index += 1
    return chunks


def job_prepared(*, job_id):
    """processing -> generating once every batch is in: from then on the chunk that finishes
    last queues packaging. True when no chunk is left to render, so the caller queues it (the
    chunks may all have finished while the last batches were signed)."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.status == Job.Status.PROCESSING:
            job.status = Job.Status.GENERATING
            # Someone left out at issue time: the job's count follows its cards.
            job.total_cards = Card.objects.filter(job=job).count()
            job.save(update_fields=["status", "total_cards"])
            send_job_event_on_commit(job_id, final=True)
        elif job.status != Job.Status.GENERATING:
            return False
        return not job.chunks.filter(finished_at__isnull=True).exists()


def unfinished_chunks(*, job):
    return list(job.chunks.filter(finished_at__isnull=True).order_by("index")
                .values_list("index", flat=True))
