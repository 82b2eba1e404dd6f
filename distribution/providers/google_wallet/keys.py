"""The service account's private key (PEM), parsed once per process."""

import functools

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key


@functools.lru_cache(maxsize=32)
def load_key(pem):
    return load_pem_private_key(pem.encode("utf-8"), password=None)


def is_rsa_private_key(pem):
    """True when `pem` parses as an unencrypted RSA private key (checked when config is saved)."""
    try:
        return isinstance(load_key(pem), RSAPrivateKey)
    except (ValueError, TypeError):
        return False
