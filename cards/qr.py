"""The QR printed on each card: `<PUBLIC_BASE_URL>/v/c/<code>#<token>`.

Kept small so it scans on a cheap phone from a printed ID-1 card: the token is upper-case
base32, so it goes in an alphanumeric segment (5.5 bits a character instead of 8) after a
byte segment for the lower-case URL; level M; version ≤ 10 for a 40-byte name and a ~40
character base URL. The mask is fixed: automatic selection scores all eight masks and made
building a card's QR ~5x slower here (11.7 vs 2.2 ms); mask 4 is the one segno picks most
often for our URLs.
"""

import re

import segno
from django.conf import settings
from segno import consts

ERROR_LEVEL = "M"
# Fixed so that building a QR does not evaluate all eight masks.
MASK = 4

# RFC 4648 base32: a subset of the QR alphanumeric set (0-9 A-Z space $%*+-./:).
_ALPHANUMERIC_TOKEN = re.compile(r"[A-Z2-7]+")


def verification_url(card) -> str:
    return f"{settings.PUBLIC_BASE_URL}/v/c/{card.code}#{card.token}"


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
    """[(text, segno mode)]: the URL up to '#' in byte mode, an upper-case base32 fragment
    in alphanumeric mode. Anything else is one segment, its mode left to segno."""
    head, sep, fragment = url.partition("#")
    if not sep or not _ALPHANUMERIC_TOKEN.fullmatch(fragment):
        return [(url, None)]
    return [(head + sep, consts.MODE_BYTE), (fragment, consts.MODE_ALPHANUMERIC)]
