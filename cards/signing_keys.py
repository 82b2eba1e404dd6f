"""Signing-key services: the program's active key, rotation, withdrawal, and the published
public keys.

Withdrawing a key (its private half leaked, or may have) is for good: the key stays published
with the status "withdrawn" and its date, so every verifier answers "not valid: key withdrawn"
for the cards it signed (a forger holding the key could sign anything with it) instead of
"forged", and the program knows whose cards to reissue (cards/key_reissue.py).
"""

import base64
import binascii
import hashlib
import logging

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaignid import crypto
from campaigns.models import Program
from cards.models import SigningKey
from cards.tokens import InvalidCardToken, decimal_decode, private_key_of

logger = logging.getLogger(__name__)

WITHDRAW_REASON_MAX_LENGTH = SigningKey._meta.get_field("withdrawn_reason").max_length
# A version 1 token's first 16 base32 characters are its first 10 bytes: version, then the
# 5-byte kid.
_TOKEN_HEAD_CHARS = 16


class KeyStateConflict(Exception):
    """The key is already withdrawn."""


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signing_key_for(*, program) -> SigningKey:
    """The program's active key, created on first use.

    Two workers starting the program's first job at once both try to create it; the partial
    unique constraint lets one win and the other reads the winner's key.
    """
    key = SigningKey.objects.filter(program=program, retired_at__isnull=True).first()
    if key is not None:
        return key
    try:
        with transaction.atomic():
            return _create_key(program)
    except IntegrityError:
        return SigningKey.objects.get(program=program, retired_at__isnull=True)


def signing_key_rotate(*, program) -> SigningKey:
    """Retires the active key (it keeps verifying the cards it signed) and creates a new one."""
    with transaction.atomic():
        # Serialises concurrent rotations of one program.
        Program.objects.select_for_update().get(pk=program.pk)
        SigningKey.objects.filter(program=program, retired_at__isnull=True).update(
            retired_at=timezone.now()
        )
        return _create_key(program)


def signing_key_withdraw(*, key, reason, user=None) -> SigningKey:
    """Withdraws `key` now, with the reason (required). The active key is rotated first: the
    program keeps signing with a new key, and a withdrawn key is never the active one.
    ValidationError names a bad reason; KeyStateConflict if the key is already withdrawn."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason the key is withdrawn.")})
    if len(reason) > WITHDRAW_REASON_MAX_LENGTH:
        raise ValidationError({"reason": _("At most %(max)d characters (%(n)d given).") % {
            "max": WITHDRAW_REASON_MAX_LENGTH, "n": len(reason)}})
    with transaction.atomic():
        Program.objects.select_for_update().get(pk=key.program_id)
        key = SigningKey.objects.select_for_update().get(pk=key.pk)
        if key.withdrawn_at is not None:
            raise KeyStateConflict(_("Key %(kid)s is already withdrawn.") % {"kid": key.kid})
        now = timezone.now()
        if key.retired_at is None:
            key.retired_at = now
            key.save(update_fields=["retired_at"])
            _create_key(key.program)
        key.withdrawn_at = now
        key.withdrawn_reason = reason
        key.save(update_fields=["withdrawn_at", "withdrawn_reason"])
    logger.info("signing key %s withdrawn by user %s", key.kid, getattr(user, "pk", None) or "-")
    return key


def token_kid(token: str) -> str | None:
    """The kid a card token names (its bytes 1-5, in either version's spelling), without
    verifying it; None if unreadable. A version 2 token (digits) is one number: it is read
    whole; of a version 1 token (base32) the first 16 characters are enough."""
    try:
        if token and token.isdigit():
            raw = decimal_decode(token)
        else:
            raw = base64.b32decode((token or "")[:_TOKEN_HEAD_CHARS])
    except (InvalidCardToken, binascii.Error, ValueError):
        return None
    return base64.b32encode(raw[1:6]).decode("ascii") if len(raw) >= 6 else None


def withdrawn_kids(*, program) -> set[str]:
    return set(
        SigningKey.objects.filter(program=program, withdrawn_at__isnull=False)
        .values_list("kid", flat=True)
    )


def signed_with_withdrawn_key(card) -> bool:
    kids = withdrawn_kids(program=card.campaign.program)
    return bool(kids) and token_kid(card.token) in kids


def private_key(key: SigningKey) -> Ed25519PrivateKey:
    return private_key_of(key)


def public_key_bytes(key: SigningKey) -> bytes:
    return b64url_decode(key.public_key)


def program_public_keys(*, program) -> dict[str, bytes]:
    """kid -> raw public key, active and retired: what `card_token_verify` takes."""
    return {k.kid: public_key_bytes(k) for k in SigningKey.objects.filter(program=program)}


def program_jwks(*, program) -> dict:
    keys = SigningKey.objects.filter(program=program).select_related("program")
    return {"keys": [_jwk(key) for key in keys]}


def all_jwks() -> dict:
    keys = SigningKey.objects.select_related("program").order_by("program_id", "created_at", "id")
    return {"keys": [_jwk(key) for key in keys]}


def _jwk(key: SigningKey) -> dict:
    jwk = {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": key.public_key,
        "kid": key.kid,
        "use": "sig",
        "alg": "EdDSA",
        "program": key.program.slug,
        "status": key.status,
    }
    if key.withdrawn_at is not None:
        # The day only: verifiers show it; the reason stays with the program.
        jwk["withdrawn_on"] = key.withdrawn_at.date().isoformat()
    return jwk


def _create_key(program) -> SigningKey:
    private = Ed25519PrivateKey.generate()
    private_raw = private.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    public_raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return SigningKey.objects.create(
        program=program,
        kid=_kid_for(public_raw),
        public_key=b64url_encode(public_raw),
        private_key_encrypted=crypto.encrypt(private_raw),
    )


def _kid_for(public_raw: bytes) -> str:
    # The first 5 bytes of the key's SHA-256: exactly 8 base32 characters, and a verifier can
    # check that a published key matches its kid.
    return base64.b32encode(hashlib.sha256(public_raw).digest()[:5]).decode("ascii")
