"""Printed card codes: `<PREFIX>-<8 chars>`, read aloud and typed by hand in the field."""

import secrets

# No 0/O, 1/I/L: the characters people confuse on a printed card.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_RANDOM_LENGTH = 8


def new_card_code(prefix: str) -> str:
    """A random code under the campaign's prefix (31^8 ≈ 8.5e11 codes per prefix)."""
    suffix = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_RANDOM_LENGTH))
    return f"{prefix}-{suffix}"
