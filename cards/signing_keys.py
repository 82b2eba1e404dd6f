"""Signing-key services: the program's active key, rotation, and the published public keys."""

import base64
import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import IntegrityError, transaction
from django.utils import timezone

from campaignid import crypto
from campaigns.models import Program
from cards.models import SigningKey


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


def private_key(key: SigningKey) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(crypto.decrypt(key.private_key_encrypted))


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
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": key.public_key,
        "kid": key.kid,
        "use": "sig",
        "alg": "EdDSA",
        "program": key.program.slug,
        "status": key.status,
    }


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
