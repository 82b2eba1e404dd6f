"""Programs (tenants), who may act for them, their quota, campaigns, beneficiaries, jobs.

Every row belongs to exactly one program; `for_program` is the only way views reach rows.
"""

import hashlib

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from campaigns.logos import validate_logo


class ProgramScopedQuerySet(models.QuerySet):
    program_path = "program"

    def for_program(self, program):
        return self.filter(**{self.program_path: program})


class Program(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    country = models.CharField(
        max_length=2, default="SN", help_text=_("ISO 3166 code; phone numbers without + use it")
    )
    timezone = models.CharField(max_length=64, default="Africa/Dakar")
    # campaigns/logos.py checks and re-encodes every logo; the validator guards any other form.
    logo = models.FileField(upload_to="logos/", blank=True, validators=[validate_logo])
    brand_colour = models.CharField(
        max_length=7, default="#0EA5E9", validators=[RegexValidator(r"^#[0-9A-Fa-f]{6}$")]
    )
    plan = models.CharField(max_length=40, default="standard")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("program")
        verbose_name_plural = _("programs")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    OPERATOR = "operator", _("Operator")
    VIEWER = "viewer", _("Viewer")


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.OPERATOR)
    can_view_sensitive = models.BooleanField(
        default=False, help_text=_("May see the people, cards and files of sensitive campaigns")
    )
    # Who granted "can view sensitive", and when (sensitive_grant_set is the only writer).
    sensitive_granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    sensitive_granted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProgramScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "program"], name="one_membership_per_program")
        ]

    def __str__(self):
        return f"{self.user} @ {self.program} ({self.role})"


class ApiKey(models.Model):
    """A program's key for integrators; only its SHA-256 is stored, the key is shown once."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, db_index=True, editable=False)
    hashed_key = models.CharField(max_length=64, unique=True, editable=False)
    # The least role that works; admin only when asked for.
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.OPERATOR)
    can_view_sensitive = models.BooleanField(default=False)
    sensitive_granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    sensitive_granted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ProgramScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(raw_key):
        return hashlib.sha256(raw_key.encode()).hexdigest()


class QuotaTransaction(models.Model):
    """Append-only ledger; a program's balance is the sum of `units` (debits negative)."""

    class Kind(models.TextChoices):
        GRANT = "grant", _("Grant")
        DEBIT = "debit", _("Debit")
        REFUND = "refund", _("Refund")

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="quota_ledger")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    units = models.IntegerField()
    # The ledger outlives a purged campaign: the row stays, its note names the job.
    job = models.ForeignKey(
        "campaigns.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="ledger"
    )
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProgramScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("quota transaction")
        verbose_name_plural = _("quota transactions")
        ordering = ["-created_at", "-id"]
        constraints = [
            # A job is charged once and refunded at most once, whatever retries happen.
            models.UniqueConstraint(
                fields=["job", "kind"], condition=Q(job__isnull=False), name="one_row_per_job_kind"
            ),
            models.CheckConstraint(
                condition=(Q(kind="debit", units__lte=0) | (~Q(kind="debit") & Q(units__gte=0))),
                name="ledger_sign_matches_kind",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.units} ({self.program})"


class CampaignType(models.TextChoices):
    VACCINATION = "vaccination", _("Vaccination")
    MILD = "mild", _("Bed nets (MILD)")
    NUTRITION = "nutrition", _("Nutrition")
    ANTENATAL = "antenatal", _("Antenatal care")
    HIV = "hiv", _("HIV")
    INSURANCE = "insurance", _("Health insurance")
    REFUGEE = "refugee", _("Refugee")
    IDENTITY = "identity", _("Identity")
    LAB = "lab", _("Laboratory")
    CPS = "cps", _("Seasonal malaria chemoprevention (CPS)")
    FARMERCARD = "farmercard", _("Farmer card")


SENSITIVE_CAMPAIGN_TYPES = {CampaignType.HIV}


class Language(models.TextChoices):
    FR = "fr", "Français"
    EN = "en", "English"
    WO = "wo", "Wolof"


class Dpi(models.IntegerChoices):
    DPI_300 = 300, "300 dpi"
    DPI_450 = 450, "450 dpi"
    DPI_600 = 600, "600 dpi"


# Quota units a card costs at each resolution.
DPI_COST_FACTOR = {300: 1.0, 450: 1.4, 600: 2.0}

prefix_validator = RegexValidator(
    r"^[A-Z0-9][A-Z0-9-]{1,6}[A-Z0-9]$",
    _("3 to 8 characters: capital letters, digits and inner hyphens (e.g. DKR-VAC)."),
)


class CampaignChildQuerySet(ProgramScopedQuerySet):
    """Rows that reach their program through their campaign."""

    program_path = "campaign__program"


class CampaignQuerySet(ProgramScopedQuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PREVIEW_READY = "preview_ready", _("Preview ready")
        GENERATING = "generating", _("Generating")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=200)
    campaign_type = models.CharField(max_length=20, choices=CampaignType.choices)
    prefix = models.CharField(max_length=8, unique=True, validators=[prefix_validator])
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.FR)
    template_id = models.CharField(max_length=40, blank=True)
    # Card Studio choices an operator makes without HTML: colours, title, logo, fields shown.
    template_options = models.JSONField(default=dict, blank=True)
    dpi = models.PositiveSmallIntegerField(choices=Dpi.choices, default=Dpi.DPI_300)
    # Cards expire this many months after issue; empty means they do not expire.
    card_validity_months = models.PositiveSmallIntegerField(null=True, blank=True)
    description = models.TextField(blank=True)
    # Whose holders must never be exposed (HIV, TB, mental health...): their people, cards and
    # files need the "can view sensitive" grant, and no public surface names the campaign.
    sensitive = models.BooleanField(
        default=False,
        help_text=_("People, cards and files need the sensitive-data grant; public pages and "
                    "messages show a neutral label. Always on for HIV."),
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["program", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(campaign_type__in=sorted(SENSITIVE_CAMPAIGN_TYPES))
                | Q(sensitive=True),
                name="sensitive_types_are_sensitive",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix})"

    def save(self, *args, **kwargs):
        # An HIV campaign is sensitive whatever the caller passed; the constraint backs it.
        if self.campaign_type in SENSITIVE_CAMPAIGN_TYPES:
            self.sensitive = True
        super().save(*args, **kwargs)

    @property
    def is_sensitive(self):
        return self.sensitive or self.campaign_type in SENSITIVE_CAMPAIGN_TYPES


class Sex(models.TextChoices):
    F = "F", _("Female")
    M = "M", _("Male")




class OptOutSource(models.TextChoices):
    """How a person's opt-out reached us (Beneficiary.opted_out_source)."""

    SMS = "sms", _("SMS reply")
    WHATSAPP = "whatsapp", _("WhatsApp reply")
    IMPORT = "import", _("Import")
    API = "api", _("API")
    ADMIN = "admin", _("Admin")


class Beneficiary(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="beneficiaries")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=1, choices=Sex.choices)
    phone = models.CharField(max_length=20, blank=True, help_text=_("E.164, e.g. +221771234567"))
    external_id = models.CharField(max_length=64, blank=True)
    mpi_id = models.CharField(max_length=64, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    consent_whatsapp = models.BooleanField(default=False)
    consent_sms = models.BooleanField(default=False)
    consent_wallet = models.BooleanField(default=True)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    # Set with opted_out_at (campaigns/opt_out.py); nothing ever clears an opt-out by itself.
    opted_out_source = models.CharField(max_length=10, choices=OptOutSource.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CampaignChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("beneficiary")
        verbose_name_plural = _("beneficiaries")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "external_id"],
                condition=~Q(external_id=""),
                name="external_id_unique_in_campaign",
            )
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name}"


class Job(models.Model):
    """A generation job: one card per beneficiary, rendered and packaged by RQ workers."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSING = "processing", _("Processing")
        GENERATING = "generating", _("Generating")
        PACKAGING = "packaging", _("Packaging")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    FINAL_STATUSES = {Status.COMPLETED, Status.FAILED, Status.CANCELLED}

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="jobs")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    dpi = models.PositiveSmallIntegerField(choices=Dpi.choices, default=Dpi.DPI_300)
    include_mpi_id = models.BooleanField(default=False)
    total_cards = models.PositiveIntegerField(default=0)
    cards_generated = models.PositiveIntegerField(default=0)
    progress = models.PositiveSmallIntegerField(default=0)
    eta_seconds = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    pdf = models.FileField(upload_to="jobs/", blank=True)
    zip = models.FileField(upload_to="jobs/", blank=True)
    portal = models.FileField(upload_to="jobs/", blank=True)
    manifest = models.FileField(upload_to="jobs/", blank=True)
    # Which beneficiaries the job covers, fixed when it is accepted: explicit ids, or every
    # beneficiary of the campaign up to an id (rows imported later are not included).
    beneficiary_ids = models.JSONField(null=True, blank=True)
    up_to_beneficiary_id = models.BigIntegerField(null=True, blank=True)
    # A reissue replaces its people's live cards; any other job leaves out whoever already
    # holds a valid card (counted here when the job is accepted).
    reissue = models.BooleanField(default=False)
    skipped_valid_card = models.PositiveIntegerField(default=0)
    chunk_size = models.PositiveIntegerField(default=100)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = CampaignChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("generation job")
        verbose_name_plural = _("generation jobs")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Job {self.pk} ({self.status})"

    @property
    def is_final(self):
        return self.status in self.FINAL_STATUSES


class JobChunk(models.Model):
    """One slice of a job's cards rendered by one RQ job. `finished_at` is set once, by a
    conditional update, so a chunk that runs twice counts its cards once."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    first_card = models.PositiveIntegerField(help_text="position of its first card in the job")
    card_count = models.PositiveIntegerField()
    # Its cards are the job's cards of these beneficiaries (inclusive, in id order): a range
    # read on an index, where an OFFSET would re-read every earlier card for each chunk.
    first_beneficiary_id = models.BigIntegerField(null=True, blank=True)
    last_beneficiary_id = models.BigIntegerField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("job chunk")
        verbose_name_plural = _("job chunks")
        ordering = ["job", "index"]
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="one_chunk_per_index")
        ]

    def __str__(self):
        return f"Job {self.job_id} chunk {self.index}"
