"""The QR printed on each card: `<PUBLIC_BASE_URL>/V/C/<CODE>#<TOKEN>`.

Kept at version 10 or below at level Q (25% of the symbol can be lost: a scratched, folded or
stained card still scans) for the longest name a token carries and a 44-character base URL
(README "Size and the QR"). Three segments, each in the QR's cheapest mode for it:

- the URL up to the code in alphanumeric mode (5.5 bits a character instead of 8): its
  scheme and host written in capitals (both are case-insensitive, browsers lower-case them)
  and the path `/V/C/` that verification/urls.py answers like `/v/c/`; codes are capitals;
- `#` in byte mode (the one character the alphanumeric set lacks);
- the token: digits (version 2) in numeric mode, base32 (version 1) in alphanumeric mode.

A base URL with a path the alphanumeric set cannot spell (lower-case letters) keeps its path
as is and its head goes in byte mode: a larger QR, never a broken link. The mask is fixed:
automatic selection scores all eight masks and made building a card's QR ~5x slower here
(11.7 vs 2.2 ms); mask 4 is the one segno picks most often for our URLs.
"""

import re
from urllib.parse import urlsplit

import segno
from django.conf import settings
from segno import consts

ERROR_LEVEL = "Q"
# Fixed so that building a QR does not evaluate all eight masks.
MASK = 4

# The QR alphanumeric character set: 0-9 A-Z space $%*+-./:
_ALPHANUMERIC = re.compile(r"[0-9A-Z $%*+\-./:]+")
_BASE32_TOKEN = re.compile(r"[A-Z2-7]+")
_DECIMAL_TOKEN = re.compile(r"[0-9]+")


def verification_url(card) -> str:
    """The card's link as people read it (messages, Wallet passes): lower-case."""
    return f"{settings.PUBLIC_BASE_URL}/v/c/{card.code}#{card.token}"


def qr_url(card) -> str:
    """The same link as the printed QR carries it: capitals where case does not matter."""
    return f"{qr_base_url()}/V/C/{card.code}#{card.token}"


def qr_base_url() -> str:
    """PUBLIC_BASE_URL with its scheme and host (and port) in capitals; its path unchanged."""
    parts = urlsplit(settings.PUBLIC_BASE_URL)
    return f"{parts.scheme.upper()}://{parts.netloc.upper()}{parts.path.rstrip('/')}"


def card_link(code) -> str:
    """The short address of a card's page, `<PUBLIC_BASE_URL>/v/c/<code>`: without the token
    the page verifies the card online by its code (what an SMS carries, to fit one segment)."""
    return f"{settings.PUBLIC_BASE_URL}/v/c/{code}"


def qr(url: str) -> segno.QRCode:
    return segno.make(
        qr_segments(url), error=ERROR_LEVEL, mask=MASK, micro=False, boost_error=False
    )


def qr_matrix(url: str) -> tuple:
    """Rows of modules (1 = dark), without quiet zone: cards/rendering/pdf_qr.py draws it on the
    card as a 1-bit image, one pixel a module, scaled without smoothing."""
    return qr(url).matrix


def qr_segments(url: str) -> list:
    """[(text, segno mode)]: the head before '#' (alphanumeric if it can be, else byte), '#'
    (byte), a decimal token (numeric) or an upper-case base32 one (alphanumeric). Anything
    else is one segment, its mode left to segno."""
    head, sep, fragment = url.partition("#")
    if _DECIMAL_TOKEN.fullmatch(fragment):
        token_mode = consts.MODE_NUMERIC
    elif _BASE32_TOKEN.fullmatch(fragment):
        token_mode = consts.MODE_ALPHANUMERIC
    else:
        return [(url, None)]
    head_mode = consts.MODE_ALPHANUMERIC if _ALPHANUMERIC.fullmatch(head) else consts.MODE_BYTE
    return [(head, head_mode), (sep, consts.MODE_BYTE), (fragment, token_mode)]
