"""The DHIS2 integration's rows: a program's connection, a campaign's link, sync runs and the
entities they skipped. They moved here from the campaigns app and keep its table names."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from campaigns.models import Campaign, CampaignChildQuerySet, Program, ProgramScopedQuerySet


class Dhis2Connection(models.Model):
    """A program's DHIS2 server: its URL and credentials, encrypted at rest.

    Read and write it through campaigns.dhis2.connection, never `config_encrypted` directly.
    """

    program = models.OneToOneField(
        Program, on_delete=models.CASCADE, related_name="dhis2_connection"
    )
    enabled = models.BooleanField(default=False)
    # Also inside the encrypted config; kept in clear so support sees which server it is.
    base_url = models.URLField(max_length=300, blank=True)
    config_encrypted = models.TextField(blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProgramScopedQuerySet.as_manager()

    class Meta:
        db_table = "campaigns_dhis2connection"
        verbose_name = _("DHIS2 connection")
        verbose_name_plural = _("DHIS2 connections")

    def __str__(self):
        return f"DHIS2 {self.base_url or '—'} @ {self.program}"


class CampaignDhis2Link(models.Model):
    """Which DHIS2 tracker program and org unit feed a campaign, and which tracked-entity
    attribute fills each beneficiary field (`mapping`: field name -> attribute uid)."""

    campaign = models.OneToOneField(
        Campaign, on_delete=models.CASCADE, related_name="dhis2_link"
    )
    program_uid = models.CharField(max_length=11)
    org_unit_uid = models.CharField(max_length=11)
    mapping = models.JSONField(default=dict)
    # DHIS2's names for what the uids point at, saved with them: pages show names, not uids.
    labels = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CampaignChildQuerySet.as_manager()

    class Meta:
        db_table = "campaigns_campaigndhis2link"
        verbose_name = _("campaign DHIS2 link")
        verbose_name_plural = _("campaign DHIS2 links")

    def __str__(self):
        return f"{self.campaign} <- DHIS2 {self.program_uid}/{self.org_unit_uid}"


class Dhis2SyncRun(models.Model):
    """One import of a campaign's tracked entities from DHIS2, page by page.

    Each page is written in one transaction that also advances `pages_done`, so a run that
    stops (a DHIS2 error, a killed worker) resumes at the next page with nothing half-written.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")

    ACTIVE_STATUSES = (Status.PENDING, Status.RUNNING)

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="dhis2_syncs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    full = models.BooleanField(default=False, help_text=_("Every tracked entity, not only changes"))
    # The window of DHIS2 `updatedAt` this run reads, in DHIS2's own clock and time zone (as
    # its /api/system/info `serverDate` gives it), so neither clock skew nor time zones lose
    # an update between two syncs. Empty `updated_after`: every tracked entity.
    updated_after = models.CharField(max_length=32, blank=True)
    updated_before = models.CharField(max_length=32, blank=True)
    page_size = models.PositiveIntegerField(default=100)
    pages_done = models.PositiveIntegerField(default=0)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    total = models.PositiveIntegerField(null=True, blank=True)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # The operator's language when they started it: the worker writes the error in it.
    language = models.CharField(max_length=8, default="fr")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = CampaignChildQuerySet.as_manager()

    class Meta:
        db_table = "campaigns_dhis2syncrun"
        verbose_name = _("DHIS2 sync run")
        verbose_name_plural = _("DHIS2 sync runs")
        ordering = ["-created_at", "-id"]
        constraints = [
            # Two syncs of one campaign would write the same beneficiaries: the database
            # refuses a second active run, whatever races the callers lose.
            models.UniqueConstraint(
                fields=["campaign"],
                condition=Q(status__in=["pending", "running"]),
                name="one_active_dhis2_sync_per_campaign",
            )
        ]

    def __str__(self):
        return f"DHIS2 sync {self.pk} ({self.status})"

    @property
    def is_active(self):
        return self.status in self.ACTIVE_STATUSES


class Dhis2SyncSkip(models.Model):
    """Why a tracked entity was not imported; written in the same transaction as its page."""

    run = models.ForeignKey(Dhis2SyncRun, on_delete=models.CASCADE, related_name="skips")
    page = models.PositiveIntegerField()
    tracked_entity = models.CharField(max_length=64)
    enrollment = models.CharField(max_length=64, blank=True)
    field = models.CharField(max_length=64, blank=True)
    attribute = models.CharField(max_length=64, blank=True)
    # The reason in the run's language (rows from before `reasons` have only this one).
    reason = models.CharField(max_length=500)
    # The reason in each of settings.LANGUAGES, written with the row: shown in the viewer's.
    reasons = models.JSONField(null=True, blank=True, verbose_name=_("reason in each language"))

    class Meta:
        db_table = "campaigns_dhis2syncskip"
        verbose_name = _("DHIS2 skipped entity")
        verbose_name_plural = _("DHIS2 skipped entities")
        ordering = ["run", "id"]

    def __str__(self):
        return f"{self.tracked_entity}: {self.reason}"

    def reason_text(self, language=None):
        """The reason in `language` (default: the active one), else as the run wrote it."""
        return reason_in(self.reason, self.reasons, language)


def reason_in(reason, reasons, language=None):
    """`reasons[language]` (or its base language, "fr" for "fr-sn"), else `reason`."""
    language = (language or get_language() or settings.LANGUAGE_CODE).lower()
    reasons = reasons if isinstance(reasons, dict) else {}
    return reasons.get(language) or reasons.get(language.split("-")[0]) or reason
