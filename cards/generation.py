"""Generation jobs: accept (validate, debit quota, enqueue), follow (status, progress, ETA),
end (complete, fail, cancel with exactly one refund). Each state change publishes its live
event after commit; the RQ tasks in cards/tasks.py only call these."""

import math

import django_rq
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from campaigns import studio
from campaigns.models import Campaign, Dpi, Job, JobChunk
from campaigns.services import quota_cost, quota_debit_for_job, quota_refund_for_job
from cards.events import send_job_event_on_commit
from cards.job_queue import QUEUE, RETRYABLE, TASK_TIMEOUT
from cards.models import Card
from cards.validity import REISSUED, program_today

# Cards a chunk renders: its fixed cost (the art, back and model card laid out, the art
# rasterised, its files stored) spread over more cards (docs/rendering.md, "Chunk size"); a
# divisor of cards/preparing.py's batch of 500, so each batch splits into whole chunks.
DEFAULT_CHUNK_SIZE = 250


class JobConflict(Exception):
    """The campaign already has a job in progress."""


def valid_card_holders(*, campaign, day=None):
    """Ids of the campaign's beneficiaries holding a valid card on `day` (today in the
    program's timezone): live (not revoked, not superseded) and not expired."""
    day = day or program_today(campaign.program)
    return (
        Card.objects.filter(campaign=campaign, revoked_at__isnull=True, superseded_at__isnull=True)
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=day))
        .values("beneficiary_id")
    )


def generation_plan(*, campaign):
    """What a new job for the whole campaign would do, before anything is charged: `new`
    cards, and `valid_card` people left out because they already hold one."""
    people = campaign.beneficiaries.count()
    holders = campaign.beneficiaries.filter(pk__in=valid_card_holders(campaign=campaign)).count()
    return {"beneficiaries": people, "new": people - holders, "valid_card": holders}


def job_create(*, campaign, user=None, dpi=None, include_mpi_id=None, beneficiary_ids=None,
               reissue=False, chunk_size=DEFAULT_CHUNK_SIZE):
    """Accept a job for the campaign's beneficiaries (or the given ones): the quota is
    debited in the same transaction, the job is enqueued after commit. Raises
    ValidationError (bad input), QuotaExceeded (not enough units) or JobConflict.

    One valid card per person: a job leaves out whoever already holds a valid card (counted
    in `skipped_valid_card`, not charged). A reissue (`reissue=True`, ids required) cards
    exactly the given people; their current cards are revoked when the new ones are issued.
    The selection is fixed here, under the campaign's row lock, so the charge matches it.
    `include_mpi_id` None: the campaign's design decides (campaigns.studio.prints_mpi_id)."""
    dpi = int(dpi or campaign.dpi)
    if dpi not in Dpi.values:
        raise ValidationError({"dpi": f"dpi must be one of {', '.join(map(str, Dpi.values))}."})
    if reissue and not beneficiary_ids:
        raise ValidationError(
            {"beneficiaries": _("A reissue needs the ids of the beneficiaries to reissue.")}
        )
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.deleted_at or campaign.archived_at:
            raise ValidationError({"campaign": "An archived or deleted campaign cannot generate."})
        if campaign.jobs.exclude(status__in=Job.FINAL_STATUSES).exists():
            raise JobConflict("A generation job is already running for this campaign.")
        beneficiaries = campaign.beneficiaries.all()
        if beneficiary_ids is not None:
            wanted = {int(pk) for pk in beneficiary_ids}
            found = set(beneficiaries.filter(pk__in=wanted).values_list("pk", flat=True))
            missing = sorted(wanted - found)
            if missing:
                raise ValidationError(
                    {"beneficiaries": f"Not beneficiaries of this campaign: {missing[:20]}"}
                )
            if not found:
                raise ValidationError(
                    {"beneficiaries": "This campaign has no beneficiaries to card."}
                )
            beneficiaries = beneficiaries.filter(pk__in=found)
        up_to = beneficiaries.order_by("-pk").values_list("pk", flat=True).first()
        if up_to is None:
            raise ValidationError({"beneficiaries": "This campaign has no beneficiaries to card."})
        skipped = 0
        if not reissue:
            holders = valid_card_holders(campaign=campaign)
            skipped = beneficiaries.filter(pk__in=holders).count()
            if skipped:
                beneficiaries = beneficiaries.exclude(pk__in=holders)
        if beneficiary_ids is not None or skipped:
            selected_ids = list(beneficiaries.order_by("pk").values_list("pk", flat=True))
            total, up_to = len(selected_ids), None
        else:
            # Everyone up to the newest id: rows imported later are not included.
            selected_ids, total = None, beneficiaries.count()
        if total == 0:
            raise ValidationError({"beneficiaries": ngettext(
                "The selected beneficiary already holds a valid card: reissue it to replace it.",
                "All %(count)s selected beneficiaries already hold a valid card: reissue "
                "their cards to replace them.",
                skipped,
            ) % {"count": skipped}})
        job = Job.objects.create(
            campaign=campaign,
            dpi=dpi,
            include_mpi_id=(
                studio.prints_mpi_id(campaign) if include_mpi_id is None else bool(include_mpi_id)
            ),
            total_cards=total,
            beneficiary_ids=selected_ids,
            up_to_beneficiary_id=up_to,
            reissue=bool(reissue),
            skipped_valid_card=skipped,
            chunk_size=chunk_size,
            created_by=user if getattr(user, "pk", None) else None,
        )
        quota_debit_for_job(job=job, units=quota_cost(cards=total, dpi=dpi))
        Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.GENERATING)
        transaction.on_commit(lambda: enqueue_job_prepare(job.pk))
        send_job_event_on_commit(job.pk, final=True)
    return job


def enqueue_job_prepare(job_id):
    django_rq.get_queue(QUEUE).enqueue(
        "cards.tasks.job_prepare", job_id, job_id=f"job{job_id}-prepare",
        job_timeout=TASK_TIMEOUT, **RETRYABLE,
    )


def job_start(*, job_id):
    """pending -> processing. False when the job has already ended (cancelled, failed)."""
    updated = Job.objects.filter(
        pk=job_id, status__in=[Job.Status.PENDING, Job.Status.PROCESSING]
    ).update(status=Job.Status.PROCESSING, started_at=timezone.now())
    send_job_event_on_commit(job_id, final=True)
    return bool(updated)


def job_chunk_done(*, job_id, index):
    """Count a chunk's cards once, however often it ran. True when no chunk is left and the
    job is prepared (every card issued, cards/preparing.py), so the caller enqueues packaging
    (a re-run of the last chunk enqueues it again: a crash between this commit and the
    enqueue must not strand the job)."""
    with transaction.atomic():
        # The job row lock serialises chunk completions and the end of preparing: exactly one
        # of them sees the last chunk finished with every chunk recorded.
        job = Job.objects.select_for_update().only("pk", "status").get(pk=job_id)
        chunk = JobChunk.objects.get(job_id=job_id, index=index)
        first_time = JobChunk.objects.filter(pk=chunk.pk, finished_at__isnull=True).update(
            finished_at=timezone.now()
        )
        if first_time:
            Job.objects.filter(pk=job_id).update(
                cards_generated=F("cards_generated") + chunk.card_count
            )
            _refresh_progress(job_id)
            send_job_event_on_commit(job_id)
        remaining = JobChunk.objects.filter(job_id=job_id, finished_at__isnull=True).exists()
    return not remaining and job.status == Job.Status.GENERATING


def _refresh_progress(job_id):
    job = Job.objects.get(pk=job_id)
    done, total = job.cards_generated, max(job.total_cards, 1)
    # Rendering is ~90 % of the work; packaging takes the last 10 %.
    job.progress = min(90, math.floor(90 * done / total))
    if job.started_at and done:
        elapsed = (timezone.now() - job.started_at).total_seconds()
        job.eta_seconds = math.ceil(elapsed / done * (total - done) + elapsed / done * total * 0.1)
    job.save(update_fields=["progress", "eta_seconds"])


def job_packaging(*, job_id):
    """generating -> packaging; False when the job already ended or another packager won."""
    updated = Job.objects.filter(
        pk=job_id, status__in=[Job.Status.GENERATING, Job.Status.PACKAGING]
    ).update(status=Job.Status.PACKAGING, progress=90)
    send_job_event_on_commit(job_id, final=True)
    return bool(updated)


def job_complete(*, job_id, artifacts):
    """packaging -> completed with its artifact file names (storage paths)."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.status != Job.Status.PACKAGING:
            return job
        for kind, name in artifacts.items():
            getattr(job, kind).name = name
        job.status = Job.Status.COMPLETED
        job.progress = 100
        job.eta_seconds = 0
        job.cards_generated = job.total_cards
        job.finished_at = timezone.now()
        job.save()
        Campaign.objects.filter(pk=job.campaign_id).update(status=Campaign.Status.COMPLETED)
        send_job_event_on_commit(job_id, final=True)
    return job


def job_fail(*, job_id, error):
    """Any non-final status -> failed, refunded exactly once."""
    return _job_end(job_id=job_id, status=Job.Status.FAILED, error=error,
                    campaign_status=Campaign.Status.FAILED)


def job_cancel(*, job):
    """Cancel a job that has not ended; its chunks still queued see it and do nothing."""
    return _job_end(job_id=job.pk, status=Job.Status.CANCELLED, error="",
                    campaign_status=None)


def _job_end(*, job_id, status, error, campaign_status):
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.is_final:
            return job
        job.status = status
        job.error = error[:2000]
        job.eta_seconds = None
        job.finished_at = timezone.now()
        job.save()
        quota_refund_for_job(job=job, note=f"Refund of job {job.pk} ({status})")
        _withdraw_cards(job=job, reason=f"job {status}")
        if campaign_status is None:
            # A cancelled job leaves the campaign as it was before: completed if an earlier job
            # completed, else back to the validated design.
            had_cards = job.campaign.jobs.filter(status=Job.Status.COMPLETED).exists()
            campaign_status = (
                Campaign.Status.COMPLETED if had_cards else Campaign.Status.PREVIEW_READY
            )
        Campaign.objects.filter(pk=job.campaign_id).update(status=campaign_status)
        send_job_event_on_commit(job_id, final=True)
    return job


def _withdraw_cards(*, job, reason):
    """A job that did not complete delivered no card: its cards are revoked, and the cards
    it was reissuing are valid again, so nobody is left without a valid card by a failure.
    Runs in the caller's transaction; the new cards go first (one live card per person)."""
    issued = Card.objects.filter(job=job, revoked_at__isnull=True)
    replaced = list(issued.filter(reissue_of__isnull=False).values_list("reissue_of", flat=True))
    issued.update(revoked_at=timezone.now(), revoked_reason=reason)
    Card.objects.filter(pk__in=replaced, revoked_reason=REISSUED).update(
        revoked_at=None, revoked_reason=""
    )
