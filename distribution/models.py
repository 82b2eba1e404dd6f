"""Models of this app (see ../shared/DESIGN.md)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from campaigns.models import Program, ProgramScopedQuerySet


class ChannelCode(models.TextChoices):
    WHATSAPP = "whatsapp", _("WhatsApp")
    SMS = "sms", _("SMS (Orange)")
    WALLET = "wallet", _("Google Wallet")


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
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProgramScopedQuerySet.as_manager()

    class Meta:
        ordering = ["program_id", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "channel"], name="one_integration_per_program_channel"
            )
        ]

    def __str__(self):
        return f"{self.get_channel_display()} @ {self.program}"
