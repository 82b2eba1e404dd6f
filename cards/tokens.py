"""The compact signed card token carried in the QR code's URL fragment.

    <PUBLIC_BASE_URL>/v/c/<CODE>#<TOKEN>

Binary, not JSON, so that the QR of a 40-byte name stays at version 10 (level M). The token
is RFC 4648 base32 (alphabet A-Z 2-7, upper case, no "=" padding) of:

    offset  size  field
    0       1     version = 0x01
    1       5     kid: the signing key's id; the kid string is the base32 of these 5 bytes
    6       1..4  program id: unsigned LEB128 varint (7 bits per byte, least significant group
                  first, high bit 0x80 = "more bytes follow"); minimal (no trailing 0x00 group)
    +0      1     campaign type: index in CAMPAIGN_TYPE_CODES below
    +1      2     issued on: uint16 big-endian, days since 2020-01-01 (day 0)
    +3      2     expires on: uint16 big-endian, days since 2020-01-01; 0xFFFF = never
    +5      2     birth date: uint16 big-endian, days since 1900-01-01; 0xFFFF = unknown
    +7      1     n = length of the name in bytes (encoders write at most 40)
    +8      n     name: UTF-8, NFC; encoders cut a longer one at a character boundary to 37
                  bytes and add "…" (40 bytes in all)
    end-64  64    Ed25519 signature (RFC 8032, pure Ed25519)

"Payload" means every byte before the signature. The signature is over

    "campaignid-card-v1" (18 ASCII bytes) || len(code) (1 byte) || code (ASCII) || payload

The card code travels in the URL path, not in the token; the signature binds it, so a token
copied under another code fails. Verifiers reject: a token that is not canonical base32 (any
character outside A-Z2-7, a length that base32 cannot produce, non-zero unused trailing bits),
a version other than 1, a non-minimal or over-long varint, an unknown campaign-type index,
invalid UTF-8, and any byte count that does not leave exactly 64 signature bytes at the end.
The README carries the same spec with a worked example (a test vector checked by
tests/test_signing.py).
"""

import base64
import binascii
import re
import struct
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

VERSION = 1
SIGNING_TAG = b"campaignid-card-v1"
SIGNATURE_SIZE = 64
KID_SIZE = 5
NAME_MAX_BYTES = 40
MAX_VARINT_BYTES = 4
ISSUE_EPOCH = date(2020, 1, 1)
BIRTH_EPOCH = date(1900, 1, 1)
NO_DATE = 0xFFFF

# Frozen order: a token stores the index. New types are appended, never inserted or reordered
# (tests check every campaigns.models.CampaignType is listed). `health` (NEUTRAL_TYPE, index
# 11) is no campaign type: the cards of a sensitive campaign carry it instead of their own,
# so that scanning a card never tells what its holder is treated for.
CAMPAIGN_TYPE_CODES = (
    "vaccination",
    "mild",
    "nutrition",
    "antenatal",
    "hiv",
    "insurance",
    "refugee",
    "identity",
    "lab",
    "cps",
    "farmercard",
    "health",
)
NEUTRAL_TYPE = "health"

_BASE32_TOKEN = re.compile(r"[A-Z2-7]+")

BAD_ENCODING = "bad encoding"
UNKNOWN_KEY = "unknown key"
BAD_SIGNATURE = "bad signature"


class InvalidCardToken(Exception):
    """The token cannot be trusted; `reason` is BAD_ENCODING, UNKNOWN_KEY or BAD_SIGNATURE."""

    def __init__(self, reason, detail=""):
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


@dataclass(frozen=True)
class CardClaims:
    name: str
    birth_date: date | None
    program_id: int
    campaign_type: str
    issued_on: date
    expires_on: date | None


class CardSigner:
    """Signs many tokens with one loaded private key (loading decrypts, so do it once a job)."""

    def __init__(self, key, private_key=None):
        # Imported here so the format itself needs no Django models (scripts, other tools).
        from cards.signing_keys import private_key as load_private_key

        self.kid = key.kid
        self._kid_bytes = kid_bytes(key.kid)
        self._private_key = private_key or load_private_key(key)

    def sign(self, *, code: str, payload: CardClaims) -> str:
        body = encode_payload(payload, kid=self._kid_bytes)
        signature = self._private_key.sign(signing_input(code, body))
        return _b32encode(body + signature)


def token_campaign_type(campaign) -> str:
    """The type a card of `campaign` carries in its token: NEUTRAL_TYPE for a sensitive
    campaign (HIV, or one flagged sensitive), else the campaign's own type."""
    return NEUTRAL_TYPE if campaign.is_sensitive else campaign.campaign_type


def card_token_sign(*, code: str, payload: CardClaims, key) -> str:
    """The token for one card, signed with `key` (a cards.models.SigningKey)."""
    return CardSigner(key).sign(code=code, payload=payload)


def card_token_decode(token: str) -> tuple[CardClaims, str, bytes, bytes]:
    """Parses without verifying: (claims, kid, payload bytes, signature).

    The signed message is `signing_input(code, payload bytes)`.
    """
    raw = _b32decode(token)
    if len(raw) < 1 + KID_SIZE + 1 + 1 + 6 + 1 + SIGNATURE_SIZE:
        raise InvalidCardToken(BAD_ENCODING, "too short")
    if raw[0] != VERSION:
        raise InvalidCardToken(BAD_ENCODING, f"unsupported version {raw[0]}")
    body, signature = raw[:-SIGNATURE_SIZE], raw[-SIGNATURE_SIZE:]
    kid = base64.b32encode(body[1 : 1 + KID_SIZE]).decode("ascii")
    program_id, pos = _read_varint(body, 1 + KID_SIZE)
    if len(body) < pos + 8:
        raise InvalidCardToken(BAD_ENCODING, "truncated")
    type_index = body[pos]
    if type_index >= len(CAMPAIGN_TYPE_CODES):
        raise InvalidCardToken(BAD_ENCODING, f"unknown campaign type {type_index}")
    issued, expires, born = struct.unpack_from(">HHH", body, pos + 1)
    name_length = body[pos + 7]
    name_bytes = body[pos + 8 :]
    if len(name_bytes) != name_length:
        raise InvalidCardToken(BAD_ENCODING, "name length does not match")
    try:
        name = name_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidCardToken(BAD_ENCODING, "name is not UTF-8") from exc
    if issued == NO_DATE:
        raise InvalidCardToken(BAD_ENCODING, "no issue date")
    claims = CardClaims(
        name=name,
        birth_date=None if born == NO_DATE else BIRTH_EPOCH + timedelta(days=born),
        program_id=program_id,
        campaign_type=CAMPAIGN_TYPE_CODES[type_index],
        issued_on=ISSUE_EPOCH + timedelta(days=issued),
        expires_on=None if expires == NO_DATE else ISSUE_EPOCH + timedelta(days=expires),
    )
    return claims, kid, body, signature


def card_token_verify(*, code: str, token: str, public_keys: dict) -> CardClaims:
    """The token's claims if a key of `public_keys` (kid -> Ed25519PublicKey or the raw 32
    bytes) signed it for this code; InvalidCardToken otherwise."""
    claims, kid, body, signature = card_token_decode(token)
    public_key = public_keys.get(kid)
    if public_key is None:
        raise InvalidCardToken(UNKNOWN_KEY, kid)
    if isinstance(public_key, bytes | bytearray):
        try:
            public_key = Ed25519PublicKey.from_public_bytes(bytes(public_key))
        except ValueError as exc:
            raise InvalidCardToken(UNKNOWN_KEY, f"{kid} is not an Ed25519 public key") from exc
    try:
        public_key.verify(signature, signing_input(code, body))
    except (InvalidSignature, ValueError) as exc:
        raise InvalidCardToken(BAD_SIGNATURE) from exc
    return claims


def signing_input(code: str, payload: bytes) -> bytes:
    code_bytes = code.encode("utf-8")
    if len(code_bytes) > 255:
        raise InvalidCardToken(BAD_SIGNATURE, "card code too long")
    return SIGNING_TAG + bytes([len(code_bytes)]) + code_bytes + payload


def encode_payload(claims: CardClaims, *, kid: bytes) -> bytes:
    """The payload bytes (everything the signature follows); ValueError names a bad field."""
    if len(kid) != KID_SIZE:
        raise ValueError(f"kid must be {KID_SIZE} bytes")
    try:
        type_index = CAMPAIGN_TYPE_CODES.index(claims.campaign_type)
    except ValueError:
        raise ValueError(f"campaign_type: unknown type {claims.campaign_type!r}") from None
    name = truncate_utf8(unicodedata.normalize("NFC", claims.name), NAME_MAX_BYTES)
    return b"".join(
        (
            bytes([VERSION]),
            kid,
            _varint(claims.program_id),
            bytes([type_index]),
            struct.pack(
                ">HHH",
                _day_number(claims.issued_on, ISSUE_EPOCH, "issued_on"),
                _day_number(claims.expires_on, ISSUE_EPOCH, "expires_on"),
                _day_number(claims.birth_date, BIRTH_EPOCH, "birth_date"),
            ),
            bytes([len(name)]),
            name,
        )
    )


ELLIPSIS = "\u2026"


def truncate_utf8(text: str, max_bytes: int) -> bytes:
    """At most `max_bytes` of UTF-8, never splitting a character. A name that does not fit
    ends with "…", so whoever reads the card sees it was shortened (the ellipsis is signed
    with the rest)."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return data
    room = max_bytes - len(ELLIPSIS.encode("utf-8"))
    kept = data[:room].decode("utf-8", errors="ignore").rstrip()
    return (kept + ELLIPSIS).encode("utf-8")


def kid_bytes(kid: str) -> bytes:
    try:
        raw = base64.b32decode(kid, casefold=False)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"kid {kid!r} is not 8 base32 characters") from exc
    if len(raw) != KID_SIZE:
        raise ValueError(f"kid {kid!r} is not 8 base32 characters")
    return raw


def _day_number(day, epoch, field):
    if day is None:
        if field == "issued_on":
            raise ValueError("issued_on: required")
        return NO_DATE
    number = (day - epoch).days
    if not 0 <= number < NO_DATE:
        last = epoch + timedelta(days=NO_DATE - 1)
        raise ValueError(f"{field}: {day} is outside {epoch}..{last}")
    return number


def _varint(value: int) -> bytes:
    if not 0 <= value < 1 << (7 * MAX_VARINT_BYTES):
        raise ValueError(f"program_id: {value} does not fit the token")
    out = bytearray()
    while True:
        group, value = value & 0x7F, value >> 7
        if value:
            out.append(group | 0x80)
        else:
            out.append(group)
            return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = 0
    for i in range(MAX_VARINT_BYTES):
        if pos + i >= len(data):
            raise InvalidCardToken(BAD_ENCODING, "truncated program id")
        byte = data[pos + i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if byte == 0 and i > 0:
                raise InvalidCardToken(BAD_ENCODING, "non-minimal program id")
            return value, pos + i + 1
    raise InvalidCardToken(BAD_ENCODING, "program id longer than 4 bytes")


def _b32encode(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


def _b32decode(token: str) -> bytes:
    if not isinstance(token, str) or not _BASE32_TOKEN.fullmatch(token):
        raise InvalidCardToken(BAD_ENCODING, "not upper-case base32")
    try:
        raw = base64.b32decode(token + "=" * (-len(token) % 8))
    except (binascii.Error, ValueError) as exc:
        raise InvalidCardToken(BAD_ENCODING, "impossible base32 length") from exc
    # Only one spelling per token: otherwise a changed last character could still verify.
    if _b32encode(raw) != token:
        raise InvalidCardToken(BAD_ENCODING, "non-canonical base32")
    return raw
