"""Signing keys: each program signs its cards' tokens with its own Ed25519 key.

A program has exactly one active key; rotation retires it but keeps it so the cards it signed
still verify (retired keys stay in every JWKS and offline portal).
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from campaigns.models import ProgramScopedQuerySet


class SigningKey(models.Model):
    program = models.ForeignKey(
        "campaigns.Program", on_delete=models.CASCADE, related_name="signing_keys"
    )
    # 8 RFC 4648 base32 characters = the 5 bytes carried in every token (see tokens.py).
    kid = models.CharField(_("key id"), max_length=8, unique=True)
    # Raw 32-byte Ed25519 public key, base64url without padding (the JWK "x" value).
    public_key = models.CharField(max_length=43)
    # Raw 32-byte Ed25519 private key, Fernet-encrypted (campaignid.crypto); never in clear.
    private_key_encrypted = models.TextField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    objects = ProgramScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["program"],
                condition=Q(retired_at__isnull=True),
                name="one_active_signing_key_per_program",
            )
        ]

    def __str__(self):
        return f"{self.kid} ({self.program_id}, {self.status})"

    @property
    def status(self):
        return "active" if self.retired_at is None else "retired"
