"""Distribution models: provider integrations, templates, dispatches, recipients, messages."""

import secrets
from datetime import time

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.models import (
    Campaign,
    CampaignChildQuerySet,
    Language,
    Program,
    ProgramScopedQuerySet,
)


class ChannelCode(models.TextChoices):
    WHATSAPP = "whatsapp", _("WhatsApp")
    SMS = "sms", _("SMS (Orange)")
    WALLET = "wallet", _("Google Wallet")


def new_webhook_token():
    return secrets.token_urlsafe(24)


class ProviderIntegration(models.Model):
    """A program's settings for one provider; the config (with its secrets) encrypted at rest.

    Read and write it through distribution.integrations, never `config_encrypted` directly.
    """

    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, related_name="provider_integrations"
    )
    channel = models.CharField(max_length=10, choices=ChannelCode.choices)
    enabled = models.BooleanField(default=False)
    # The provider's name for the account (WhatsApp phone number id, SMS sender address, Wallet
    # issuer id), kept in clear so a webhook can find its program without decrypting every row.
    account_id = models.CharField(max_length=100, blank=True, db_index=True)
    config_encrypted = models.TextField(blank=True, editable=False)
    # The secret in this integration's delivery-receipt URL (/webhooks/orange/<token>): the
    # provider cannot sign its callbacks, so the URL itself is the credential.
    webhook_token = models.CharField(max_length=64, unique=True, default=new_webhook_token,
                                     editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProgramScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("provider integration")
        verbose_name_plural = _("provider integrations")
        ordering = ["program_id", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "channel"], name="one_integration_per_program_channel"
            )
        ]

    def __str__(self):
        return f"{self.get_channel_display()} @ {self.program}"


class MessageTemplate(models.Model):
    """A campaign's own text for one language; without one the built-in default is used
    (distribution.message_templates.DEFAULT_TEMPLATES)."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="message_templates"
    )
    language = models.CharField(max_length=2, choices=Language.choices)
    body = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    objects = CampaignChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["campaign_id", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "language"], name="one_message_template_per_language"
            )
        ]

    def __str__(self):
        return f"{self.campaign} ({self.language})"


class Dispatch(models.Model):
    """A bulk distribution run of a campaign's cards: who, over which channels, when, how fast.

    Its recipients (one row each) carry the progress; the counters are read from them.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        DONE = "done", _("Done")

    class FinishReason(models.TextChoices):
        COMPLETED = "completed", _("Completed")
        STOPPED = "stopped", _("Stopped")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="dispatches")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    first_channel = models.CharField(max_length=10, choices=ChannelCode.choices)
    fallback_channel = models.CharField(max_length=10, choices=ChannelCode.choices, blank=True)
    fallback_after_attempts = models.PositiveSmallIntegerField(default=2)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    retry_delays = models.JSONField(default=list, help_text=_("Seconds before each retry"))
    window_start = models.TimeField(default=time(7, 0))
    window_end = models.TimeField(default=time(21, 0))
    weekdays = models.JSONField(default=list, help_text=_("0 = Monday … 6 = Sunday"))
    rate_limit_per_second = models.PositiveIntegerField(default=20)
    beneficiary_ids = models.JSONField(null=True, blank=True)
    # Why the run is paused when the system paused it (an account error), shown to operators.
    pause_reason = models.CharField(max_length=300, blank=True)
    # Set while the run waits for its send window to open.
    waiting_until = models.DateTimeField(null=True, blank=True)
    finish_reason = models.CharField(max_length=10, choices=FinishReason.choices, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = CampaignChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("dispatch")
        verbose_name_plural = _("dispatches")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Dispatch {self.pk} ({self.status})"

    @property
    def channels(self):
        return [c for c in (self.first_channel, self.fallback_channel) if c]


class DispatchRecipient(models.Model):
    """One beneficiary of a dispatch run and where their card stands.

    `queued` rows are sent when `next_attempt_at` has come (and the window is open); a sender
    claims a row (queued -> sending, with its claim token) in the same transaction that inserts
    the attempt's Message, before it calls the provider; the outcome moves it on.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    class SkipReason(models.TextChoices):
        OPTED_OUT = "opted_out", _("Opted out")
        NO_CONSENT = "no_consent", _("No consent for the channels")
        NO_PHONE = "no_phone", _("No phone number")
        NO_CARD = "no_card", _("No card issued")
        CARD_REVOKED = "card_revoked", _("Card revoked")
        # A Wallet step sends its link by WhatsApp or SMS: without either consent, nothing
        # can carry it (distribution.dispatch.wallet_step).
        NO_CARRIER = "no_carrier", _("No WhatsApp or SMS consent to carry the Wallet link")

    # No index of its own: the unique (dispatch, beneficiary) constraint starts with it.
    dispatch = models.ForeignKey(Dispatch, on_delete=models.CASCADE, related_name="recipients",
                                 db_index=False)
    beneficiary = models.ForeignKey(
        "campaigns.Beneficiary", on_delete=models.CASCADE, related_name="+"
    )
    card = models.ForeignKey("cards.Card", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    # The channels this person may be reached on, in the run's order (consent and phone
    # checked when the run started), comma-separated; `channel` is the one in use.
    channels = models.CharField(max_length=40, blank=True)
    channel = models.CharField(max_length=10, choices=ChannelCode.choices, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text=_("Attempts used"))
    channel_attempts = models.PositiveSmallIntegerField(default=0)
    # Message rows made so far, throttled ones included: the next one's attempt number.
    tries = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    batched_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    skip_reason = models.CharField(max_length=20, choices=SkipReason.choices, blank=True)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("dispatch recipient")
        verbose_name_plural = _("dispatch recipients")
        ordering = ["dispatch_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dispatch", "beneficiary"], name="one_recipient_per_dispatch"
            )
        ]
        indexes = [
            models.Index(fields=["dispatch", "status", "next_attempt_at"],
                         name="recipient_due"),
        ]

    def __str__(self):
        return f"Dispatch {self.dispatch_id} → beneficiary {self.beneficiary_id}"


class Message(models.Model):
    """One attempt to deliver a card over one channel: the send log.

    Claimed before the provider is called (inserted as `sending` under a unique idempotency
    key), so a retried task or a restarted worker never sends the same attempt twice. Holds no
    name and only the masked number.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        READ = "read", _("Read")
        FAILED = "failed", _("Failed")

    # program and campaign lead the log's two indexes: no index of their own (every index
    # costs each of the thousands of inserts a dispatch makes).
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+",
                                db_index=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="messages",
                                 db_index=False)
    beneficiary = models.ForeignKey(
        "campaigns.Beneficiary", on_delete=models.CASCADE, related_name="messages"
    )
    card = models.ForeignKey("cards.Card", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="messages")
    dispatch = models.ForeignKey(Dispatch, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="messages")
    channel = models.CharField(max_length=10, choices=ChannelCode.choices)
    attempt = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    provider_message_id = models.CharField(max_length=128, blank=True)
    recipient = models.CharField(max_length=32, blank=True, help_text=_("Masked number"))
    error_code = models.CharField(max_length=40, blank=True)
    error_detail = models.CharField(max_length=255, blank=True)
    via_template = models.BooleanField(default=False)
    idempotency_key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    # A single send asked for outside the sending window waits (`pending`) until then. What
    # it will send is kept here, not in the queued job (Redis may lose it, and must hold no
    # number): the operator's own text (blank: the campaign's template) and the number they
    # typed when it is not the beneficiary's; the number is blanked once the message is sent.
    # Database defaults: the dispatch claim inserts Messages in raw SQL without naming them.
    scheduled_for = models.DateTimeField(null=True, blank=True)
    scheduled_text = models.TextField(blank=True, db_default="")
    scheduled_phone = models.CharField(max_length=32, blank=True, db_default="")
    # A Wallet step's message: `channel` is its carrier (SMS or WhatsApp), whose receipts
    # apply to it; the text holds the card's Wallet short link (distribution.wallet_links).
    # A database default: the dispatch's claim inserts messages in raw SQL without it.
    wallet_pass = models.BooleanField(default=False, db_default=False)

    objects = ProgramScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The webhooks' one lookup per status.
            models.Index(fields=["provider_message_id", "channel"], name="message_provider_id"),
            models.Index(fields=["program", "created_at"], name="message_log"),
            models.Index(fields=["campaign", "created_at"], name="message_campaign_log"),
        ]

    def __str__(self):
        return f"{self.channel} #{self.attempt} ({self.status})"


class ParkedReceipt(models.Model):
    """A delivery status that arrived before its send's provider id was written (the ids of a
    batch are written up to half a second after the provider answered): kept until the id is
    recorded, then applied (distribution.delivery_status.apply_parked), or deleted once
    expired. One row per (channel, provider id, status) and program: a provider's retry
    changes nothing, and another program's callback naming the same id cannot take its place."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10, choices=ChannelCode.choices)
    provider_message_id = models.CharField(max_length=128)
    status = models.CharField(max_length=10, choices=Message.Status.choices)
    at = models.DateTimeField()
    error_code = models.CharField(max_length=40, blank=True)
    error_detail = models.CharField(max_length=255, blank=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("parked delivery status")
        verbose_name_plural = _("parked delivery statuses")
        constraints = [
            models.UniqueConstraint(fields=["channel", "provider_message_id", "status", "program"],
                                    name="parked_receipt_unique"),
        ]

    def __str__(self):
        return f"{self.channel} {self.status} (parked)"


def new_wallet_token():
    # 12 URL-safe characters (72 random bits): short in an SMS, unguessable.
    return secrets.token_urlsafe(9)


class WalletLink(models.Model):
    """A card's Google Wallet save link and the short link of ours that leads to it
    (`<PUBLIC_BASE_URL>/w/<token>`, distribution.wallet_links). The token is made before the
    link is sent; `save_url` when Google's link is made (or when the short link is first
    opened, if the sender stopped before recording it)."""

    card = models.OneToOneField("cards.Card", on_delete=models.CASCADE,
                                related_name="wallet_link")
    token = models.CharField(max_length=24, unique=True, default=new_wallet_token,
                             editable=False)
    save_url = models.TextField(blank=True)
    object_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    made_at = models.DateTimeField(null=True, blank=True)

    campaign_path = "card__campaign"

    class Meta:
        verbose_name = _("Wallet link")
        verbose_name_plural = _("Wallet links")

    def __str__(self):
        return f"Wallet link of card {self.card_id}"
