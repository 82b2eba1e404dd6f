"""Secrets encrypted at rest (signing keys, provider credentials) with Fernet.

The key is settings.ENCRYPTION_KEY (one Fernet key, or several separated by commas: the first
encrypts, all decrypt, so a key can be rotated). When it is empty a key is derived from
SECRET_KEY with HKDF, so a laptop install needs nothing; production sets its own key so that
rotating SECRET_KEY (sessions) does not make the stored secrets unreadable.
"""

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_HKDF_INFO = b"campaignid/encryption-key/v1"


class DecryptionError(Exception):
    """A stored secret cannot be decrypted with the configured key(s)."""


def encrypt(data: bytes) -> str:
    """Encrypts bytes; returns an ASCII Fernet token fit for a text column."""
    return _fernet(settings.ENCRYPTION_KEY, settings.SECRET_KEY).encrypt(data).decode("ascii")


def decrypt(token: str) -> bytes:
    try:
        return _fernet(settings.ENCRYPTION_KEY, settings.SECRET_KEY).decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise DecryptionError(
            "Cannot decrypt a stored secret: was ENCRYPTION_KEY (or SECRET_KEY, when "
            "ENCRYPTION_KEY is empty) changed since it was stored?"
        ) from exc


def generate_key() -> str:
    """A fresh value for ENCRYPTION_KEY."""
    return Fernet.generate_key().decode("ascii")


# Keyed on the settings' values so tests that override them get the matching key.
@functools.lru_cache(maxsize=8)
def _fernet(encryption_key: str, secret_key: str) -> MultiFernet:
    keys = [k.strip() for k in encryption_key.split(",") if k.strip()]
    if not keys:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
            secret_key.encode("utf-8")
        )
        return MultiFernet([Fernet(base64.urlsafe_b64encode(derived))])
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"ENCRYPTION_KEY (key {position}) is not a Fernet key: 32 url-safe base64-encoded "
                "bytes, e.g. from `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`."
            ) from exc
    return MultiFernet(fernets)
