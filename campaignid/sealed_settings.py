"""Settings with secrets, kept as one encrypted JSON object in a text column (a provider's
credentials, a DHIS2 server's password).

Secrets are write-only: what is shown is masked (`••••abcd`), and a save that omits a secret,
or sends its masked form back, keeps the stored one.
"""

import json

from campaignid.crypto import decrypt, encrypt

MASK = "••••"


def seal(values):
    """The encrypted text to store for the dict `values`."""
    return encrypt(json.dumps(values).encode("utf-8"))


def unseal(sealed):
    """The dict stored as `sealed` (secrets in clear: for the code that calls out, never for a
    response); {} when nothing is stored."""
    if not sealed:
        return {}
    return json.loads(decrypt(sealed))


def masked(value, *, label=""):
    """How a secret is shown: its last 4 characters when it is long enough to keep 8 hidden,
    or `label` after the mask (e.g. "RSA private key") for a secret whose tail says nothing."""
    if not value:
        return ""
    if label:
        return f"{MASK} {label}"
    return f"{MASK}{value[-4:]}" if len(value) >= 12 else MASK


def kept_secret(submitted, stored):
    """The secret to save: `stored` when the form sent nothing or the masked form back."""
    if not submitted or submitted.startswith(MASK):
        return stored
    return submitted
