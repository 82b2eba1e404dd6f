"""Cards: one per beneficiary per generation job, with its printed code and signed token.

At most one *live* card per person (not revoked, not superseded), a unique index the database
enforces: expiry depends on the day, so an expired card stays live until a newer card of the
same person supersedes it (cards/issuing.py), and a reissued card is revoked ("reissued")."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from campaigns.models import CampaignChildQuerySet, ProgramScopedQuerySet


class Card(models.Model):
    class Status(models.TextChoices):
        VALID = "valid", _("Valid")
        REVOKED = "revoked", _("Revoked")
        EXPIRED = "expired", _("Expired")
        # Signed by a key the program withdrew (cards.signing_keys): not valid any more.
        WITHDRAWN = "withdrawn", _("Key withdrawn")

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="cards"
    )
    beneficiary = models.ForeignKey(
        "campaigns.Beneficiary", on_delete=models.CASCADE, related_name="cards"
    )
    # A card outlives its job's row: it is printed and must keep verifying.
    job = models.ForeignKey(
        "campaigns.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="cards"
    )
    # <PREFIX>-<8 chars>; campaign prefixes are unique, so codes are unique installation-wide.
    code = models.CharField(max_length=20, unique=True)
    token = models.TextField()
    issued_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=255, blank=True)
    # Set on an expired card when its holder is issued a new one; it still verifies as expired.
    superseded_at = models.DateTimeField(null=True, blank=True)
    # The card this one replaces on purpose (lost card, corrected name); that one is revoked
    # with reason "reissued" when this one is issued.
    reissue_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reissued_as"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CampaignChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("card")
        verbose_name_plural = _("cards")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "beneficiary"], name="one_card_per_beneficiary_per_job"
            ),
            models.UniqueConstraint(
                fields=["beneficiary"],
                condition=Q(revoked_at__isnull=True, superseded_at__isnull=True),
                name="one_live_card_per_beneficiary",
            ),
        ]

    def __str__(self):
        return self.code

    def status_on(self, day):
        """valid, revoked or expired on `day` (a date in the program's timezone)."""
        if self.revoked_at is not None:
            return self.Status.REVOKED
        if self.expires_on is not None and day > self.expires_on:
            return self.Status.EXPIRED
        return self.Status.VALID


# Signing keys: each program signs its cards' tokens with its own Ed25519 key. A program has
# exactly one active key; rotation retires it but keeps it so the cards it signed still verify
# (retired keys stay in every JWKS and offline portal). A key whose private half leaked is
# *withdrawn* (cards.signing_keys.signing_key_withdraw): it stays published, with that status,
# so verifiers answer "not valid: key withdrawn" for the cards it signed instead of "forged".
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
    # Set with retired_at (a withdrawn key is never the active one).
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.CharField(max_length=255, blank=True)

    objects = ProgramScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        # The table keeps the name it had when the model lived in the verification app.
        db_table = "verification_signingkey"
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
        if self.withdrawn_at is not None:
            return self.WITHDRAWN
        return self.ACTIVE if self.retired_at is None else self.RETIRED

    ACTIVE = "active"
    RETIRED = "retired"
    WITHDRAWN = "withdrawn"
