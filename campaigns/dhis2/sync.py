"""DHIS2 sync runs: import a campaign's tracked entities as beneficiaries, page by page.

- A run reads the tracked entities of the campaign's DHIS2 program under its org unit
  (descendants included) whose `updatedAt` falls in the run's window: after the previous
  successful run's start (an incremental sync; everything for a full one) and up to this
  run's start, both read on DHIS2's own clock. The windows of successive runs overlap by a
  few minutes and never leave a gap.
- Each page is checked with the CSV import's own row rules and written by its upsert
  (campaigns/beneficiary_upsert.py: a DHIS2 entity and a CSV row are judged and saved
  alike), in ONE transaction with the run's counters and `pages_done`: a run that stops
  (DHIS2 fails, a worker is killed) has whole pages or nothing, and resumes at the next page.
- A beneficiary is keyed by its enrollment uid in the DHIS2 program (`external_id`), unique
  in the campaign: importing an entity twice updates it, never duplicates it.
- At most one active run per campaign, enforced by a partial unique index.
"""

import re
from datetime import datetime, timedelta

import django_rq
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from rq.exceptions import NoSuchJobError
from rq.job import Job as RqJob
from rq.job import JobStatus

from campaignid.task_failures import retrying
from campaigns.beneficiary_upsert import (
    EXTERNAL_ID_CANDIDATES,
    WRITE_BATCH,
    beneficiaries_upsert,
    beneficiary_row_clean,
)
from campaigns.csv_export import csv_lines
from campaigns.dhis2.client import Dhis2Error, format_time, parse_version, server_time
from campaigns.dhis2.connection import ConnectionNotConfigured, client_for, connection_get
from campaigns.dhis2.events import send_sync_event_on_commit
from campaigns.dhis2.mapping import link_get
from campaigns.dhis2.models import Dhis2SyncRun, Dhis2SyncSkip, reason_in

DEFAULT_PAGE_SIZE = 100
TASK_TIMEOUT = 3 * 3600
# A retry resumes where the run stopped, so it can start at once. After the last one,
# tasks.on_task_failure fails the run, keeping the pages it wrote.
RETRYABLE = retrying("campaigns.dhis2.tasks.on_task_failure")
# Entities saved in DHIS2 while the previous run read it may carry an `updatedAt` a little
# before that run's start: the next window starts this much earlier.
WINDOW_OVERLAP = timedelta(minutes=5)
# A run younger than this is never judged abandoned: its RQ job is enqueued on commit.
STALE_AFTER = timedelta(minutes=1)
SEX_CODES = {
    "m": "M", "male": "M", "masculin": "M", "homme": "M", "h": "M",
    "f": "F", "female": "F", "féminin": "F", "feminin": "F", "femme": "F",
}
DATE_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})T")
USABLE_ENROLLMENT = ("ACTIVE", "COMPLETED")


class SyncConflict(Exception):
    """The campaign already has a sync pending or running."""


class SyncNotReady(Exception):
    """The program has no DHIS2 connection, or the campaign no program/org unit/mapping."""


def rq_job_id(run_id):
    return f"dhis2-sync-{run_id}"


# Starting a run -----------------------------------------------------------------------------


def sync_request(*, campaign, user=None, full=False):
    """Accepts a sync of `campaign` and enqueues it after commit; returns the pending run.

    Incremental unless `full`, there is no earlier successful run, or the link (program,
    org unit, mapping) changed since that run started. Raises SyncNotReady or SyncConflict.
    """
    if campaign.deleted_at or campaign.archived_at:
        raise SyncNotReady(_("An archived or deleted campaign cannot import from DHIS2."))
    link = link_get(campaign=campaign)
    if link is None:
        raise SyncNotReady(
            _("Choose this campaign's DHIS2 program, org unit and attribute mapping first.")
        )
    connection = connection_get(program=campaign.program)
    if connection is None or not connection.enabled:
        raise SyncNotReady(
            _("DHIS2 is not set up (or not enabled) for this program: save its URL and "
              "credentials first.")
        )
    with transaction.atomic():
        _release_abandoned_runs(campaign)
        previous = (
            Dhis2SyncRun.objects.filter(campaign=campaign, status=Dhis2SyncRun.Status.COMPLETED)
            .exclude(updated_before="").order_by("-started_at").first()
        )
        incremental = bool(
            not full and previous and previous.started_at
            and link.updated_at <= previous.started_at
        )
        try:
            with transaction.atomic():
                run = Dhis2SyncRun.objects.create(
                    campaign=campaign,
                    full=not incremental,
                    updated_after=_shift(previous.updated_before, -WINDOW_OVERLAP)
                    if incremental else "",
                    page_size=getattr(settings, "DHIS2_PAGE_SIZE", DEFAULT_PAGE_SIZE),
                    language=(translation.get_language() or settings.LANGUAGE_CODE)[:8],
                    created_by=user if getattr(user, "pk", None) else None,
                )
        except IntegrityError:
            raise SyncConflict(_("A DHIS2 import is already running for this campaign.")) from None
        transaction.on_commit(lambda: enqueue_sync(run.pk))
        send_sync_event_on_commit(run.pk, final=True)
    return run


def enqueue_sync(run_id):
    # By dotted path: the task module calls this one, never the reverse.
    django_rq.get_queue("dhis2").enqueue(
        "campaigns.dhis2.tasks.sync_run", run_id, job_id=rq_job_id(run_id),
        job_timeout=TASK_TIMEOUT, **RETRYABLE,
    )


def resume_lost_runs():
    """Recovery sweep (campaignid/recovery.py): an active run older than STALE_AFTER whose RQ
    job Redis no longer holds (it restarted empty) is queued again; it resumes at its first
    page not written, and a page is written by one execution only (sync_page)."""
    cutoff = timezone.now() - STALE_AFTER
    lost = [run_id for run_id in Dhis2SyncRun.objects.filter(
        status__in=Dhis2SyncRun.ACTIVE_STATUSES, created_at__lt=cutoff,
    ).values_list("pk", flat=True) if _rq_status(run_id) is None]
    for run_id in lost:
        enqueue_sync(run_id)
    return lost


def _rq_status(run_id):
    try:
        return RqJob.fetch(rq_job_id(run_id),
                           connection=django_rq.get_connection("dhis2")).get_status()
    except NoSuchJobError:
        return None


def _release_abandoned_runs(campaign):
    """Fails an active run whose RQ job is gone (Redis flushed, retries used up without the
    failure callback): otherwise it would block every later sync of the campaign."""
    cutoff = timezone.now() - STALE_AFTER
    for run in Dhis2SyncRun.objects.filter(
        campaign=campaign, status__in=Dhis2SyncRun.ACTIVE_STATUSES, created_at__lt=cutoff
    ):
        status = _rq_status(run.pk)
        if status in (None, JobStatus.FAILED, JobStatus.FINISHED, JobStatus.STOPPED,
                      JobStatus.CANCELED):
            sync_fail(run_id=run.pk, error=_("The worker running this import stopped."))


# Running it ---------------------------------------------------------------------------------


def sync_execute(*, run_id):
    """Runs (or resumes) a sync to its end. DHIS2 failures end the run as failed with a
    message in the operator's language; anything else propagates so RQ retries the task."""
    run = _claim(run_id)
    if run is None:
        return
    with translation.override(run.language):
        try:
            _read_pages(run)
        except Dhis2Error as exc:
            sync_fail(run_id=run_id, error=_stopped_message(run_id, exc))
        except ConnectionNotConfigured as exc:
            sync_fail(run_id=run_id, error=str(exc))


def _claim(run_id):
    with transaction.atomic():
        run = (
            Dhis2SyncRun.objects.select_for_update().select_related("campaign__program")
            .filter(pk=run_id).first()
        )
        if run is None or not run.is_active:
            return None
        run.status = Dhis2SyncRun.Status.RUNNING
        run.started_at = run.started_at or timezone.now()
        run.save(update_fields=["status", "started_at"])
        send_sync_event_on_commit(run_id, final=True)
    return run


def _read_pages(run):
    campaign = run.campaign
    link = link_get(campaign=campaign)
    if link is None:
        sync_fail(run_id=run.pk, error=_("The campaign's DHIS2 link was removed."))
        return
    client = client_for(program=campaign.program)
    info = client.system_info()
    if not run.updated_before:
        # The window's end, fixed at the first start and kept by a resumed run.
        run.updated_before = server_time(info) or format_time(timezone.now())
        Dhis2SyncRun.objects.filter(pk=run.pk).update(updated_before=run.updated_before)
    version = parse_version(info.get("version"))
    rules = EntityRules(link=link, region=campaign.program.country, today=timezone.localdate())
    page = run.pages_done + 1
    page_count = run.page_count
    while page_count is None or page <= page_count:
        result = client.tracked_entities(
            version=version, program=link.program_uid, org_unit=link.org_unit_uid, page=page,
            page_size=run.page_size, updated_after=run.updated_after,
            updated_before=run.updated_before, count_pages=page_count is None,
        )
        if not sync_page(run_id=run.pk, page=page, entities=result.entities, rules=rules,
                         page_count=result.page_count, total=result.total):
            return  # another worker holds this run now
        page_count = page_count if page_count is not None else result.page_count
        if len(result.entities) < run.page_size:
            break
        page += 1
    sync_complete(run_id=run.pk)


def _stopped_message(run_id, exc):
    run = Dhis2SyncRun.objects.get(pk=run_id)
    return _("Stopped at page %(page)s of %(pages)s (pages before it are imported): %(error)s") % {
        "page": run.pages_done + 1, "pages": run.page_count or "?", "error": exc,
    }


def sync_complete(*, run_id):
    with transaction.atomic():
        updated = Dhis2SyncRun.objects.filter(
            pk=run_id, status=Dhis2SyncRun.Status.RUNNING
        ).update(status=Dhis2SyncRun.Status.COMPLETED, finished_at=timezone.now(), error="")
        send_sync_event_on_commit(run_id, final=True)
    return bool(updated)


def sync_fail(*, run_id, error):
    """Any active run -> failed with `error`; what its committed pages imported stays."""
    with transaction.atomic():
        updated = Dhis2SyncRun.objects.filter(
            pk=run_id, status__in=Dhis2SyncRun.ACTIVE_STATUSES
        ).update(status=Dhis2SyncRun.Status.FAILED, finished_at=timezone.now(),
                 error=str(error)[:2000])
        send_sync_event_on_commit(run_id, final=True)
    return bool(updated)


# One page -----------------------------------------------------------------------------------


class EntityRules:
    """Turns one tracked entity into the values of a beneficiary, with the CSV import's
    checks, or into the reasons it is skipped."""

    def __init__(self, *, link, region, today):
        self.program_uid = link.program_uid
        self.mapping = dict(link.mapping)
        self.region = region
        self.today = today

    def prepare(self, entity):
        """{"entity", "enrollments": [uid, ...] best first, "values"} or
        {"entity", "enrollment", "problems": [(field, reason)], "reasons": [{language:
        reason}]}: each problem's reason in the active language, and in every language of
        the site (a skip is read later by people of other languages: see Dhis2SyncSkip)."""
        item = self._prepare(entity)
        if "problems" in item:
            item["reasons"] = [{} for _problem in item["problems"]]
            for language, _name in settings.LANGUAGES:
                with translation.override(language):
                    again = self._prepare(entity)["problems"]
                for texts, (_field, reason) in zip(item["reasons"], again, strict=True):
                    texts[language] = str(reason)[:500]
        return item

    def _prepare(self, entity):
        uid = str(entity.get("trackedEntity") or entity.get("trackedEntityInstance") or "?")
        enrollments, problem = self._enrollments(entity)
        if problem:
            return {"entity": uid, "enrollment": "", "problems": [("enrollment", problem)]}
        values = self._values(entity)
        cleaned, problems = beneficiary_row_clean(values, region=self.region, today=self.today)
        if problems:
            return {"entity": uid, "enrollment": enrollments[0], "problems": problems}
        return {"entity": uid, "enrollments": enrollments, "values": cleaned}

    def attribute_of(self, field):
        return self.mapping.get(field, "")

    def _enrollments(self, entity):
        ours = [
            e for e in entity.get("enrollments") or []
            if isinstance(e, dict) and e.get("enrollment") and not e.get("deleted")
            and e.get("program", self.program_uid) == self.program_uid
        ]
        usable = [e for e in ours if str(e.get("status") or "ACTIVE").upper() in USABLE_ENROLLMENT]
        if not usable:
            if ours:
                return [], _("its enrollment in the DHIS2 program is cancelled")
            return [], _("no enrollment in the DHIS2 program")
        # An active enrollment first, then the latest: a re-enrolled person keeps one card.
        usable.sort(key=lambda e: str(e.get("enrolledAt") or ""), reverse=True)
        usable.sort(key=lambda e: str(e.get("status") or "ACTIVE").upper() != "ACTIVE")
        return [str(e["enrollment"]) for e in usable], None

    def _values(self, entity):
        by_uid = {}
        for item in entity.get("attributes") or []:
            if isinstance(item, dict) and item.get("attribute"):
                by_uid[item["attribute"]] = item.get("value")
        values = {}
        for field, uid in self.mapping.items():
            value = by_uid.get(uid)
            value = "" if value is None else str(value).strip()
            if field == "sex":
                value = SEX_CODES.get(value.lower(), value)
            elif field == "date_of_birth" and (match := DATE_TIME.match(value)):
                value = match[1]
            values[field] = value
        return values


def sync_page(*, run_id, page, entities, rules, page_count=None, total=None):
    """Writes one page in one transaction: creates, updates, skips, counters, `pages_done`.

    Returns False, writing nothing, when the run is no longer running or this page is not
    its next one (another worker got there first).
    """
    prepared = {}
    for entity in entities:
        item = rules.prepare(entity)
        prepared[item["entity"]] = item  # an entity listed twice counts once
    ready = [item for item in prepared.values() if "values" in item]
    skipped = [item for item in prepared.values() if "problems" in item]

    with transaction.atomic():
        run = Dhis2SyncRun.objects.select_for_update().only(
            "pk", "status", "pages_done", "campaign_id"
        ).get(pk=run_id)
        if run.status != Dhis2SyncRun.Status.RUNNING or run.pages_done != page - 1:
            return False
        # Keyed by enrollment, best first: one already imported keeps its beneficiary. The
        # upsert locks the campaign row, as the CSV import does: never one enrollment twice.
        written = beneficiaries_upsert(
            campaign_id=run.campaign_id,
            rows=[{**item["values"], EXTERNAL_ID_CANDIDATES: item["enrollments"]}
                  for item in ready],
            skip_unchanged=True,
        )
        Dhis2SyncSkip.objects.bulk_create([
            Dhis2SyncSkip(
                run_id=run_id, page=page, tracked_entity=item["entity"][:64],
                enrollment=item["enrollment"][:64], field=field[:64],
                attribute=rules.attribute_of(field), reason=str(reason)[:500], reasons=reasons,
            )
            for item in skipped
            for (field, reason), reasons in zip(item["problems"], item["reasons"], strict=True)
        ], batch_size=WRITE_BATCH)
        counters = {
            "pages_done": page,
            "created_count": F("created_count") + written.created,
            "updated_count": F("updated_count") + written.updated,
            "unchanged_count": F("unchanged_count") + written.unchanged,
            "skipped_count": F("skipped_count") + len(skipped),
        }
        if page_count is not None:
            counters["page_count"] = page_count
        if total is not None:
            counters["total"] = total
        Dhis2SyncRun.objects.filter(pk=run_id).update(**counters)
        send_sync_event_on_commit(run_id)
    return True


# Reading runs -------------------------------------------------------------------------------

ERRORS_CSV_HEADER = ("page", "tracked_entity", "enrollment", "field", "attribute", "reason")


def skipped_csv_lines(*, run, language=None):
    """The run's skipped entities as CSV text lines (header first), streamed from the DB;
    each reason in `language` (default: the active one, read now: the lines are written
    after the view returns)."""
    language = language or translation.get_language()
    rows = run.skips.order_by("id").values_list(*ERRORS_CSV_HEADER, "reasons")
    return csv_lines(ERRORS_CSV_HEADER, (
        (*row[:-2], reason_in(row[-2], row[-1], language))
        for row in rows.iterator(chunk_size=2000)
    ))


def _shift(dhis2_time, delta):
    """A DHIS2 server time string moved by `delta`, in the same form."""
    try:
        moment = datetime.fromisoformat(dhis2_time)
    except ValueError:
        return ""
    return format_time(moment + delta)
