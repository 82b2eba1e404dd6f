"""The compact signed card token carried in the QR code's URL fragment.

    <PUBLIC_BASE_URL>/v/c/<CODE>#<TOKEN>

Binary, not JSON, so that the printed QR stays at version 10 or below at level Q. Two
versions exist; new cards are signed as version 2, version 1 cards keep verifying.

Version 2 (every card issued since #16): the token is the token bytes read as one big-endian
unsigned integer, written in decimal and left-padded with "0" to D(n) digits, D(n) being the
number of digits of 256^n - 1 (n = the number of bytes). Digits are the QR's numeric mode
(3.33 bits a digit, 8.03 bits a byte, against 8.8 for base32 in alphanumeric mode). Bytes:

    offset  size  field
    0       1     version = 0x02
    1       5     kid (as in version 1)
    6       1     campaign type: index in CAMPAIGN_TYPE_CODES
    7       2     issued on   } uint16 big-endian, as in version 1
    9       2     expires on  }
    11      2     birth date  }
    13      n     name: UTF-8, NFC, every byte up to the signature (no length byte); encoders
                  write at most NAME_MAX_BYTES (20), cut at a character boundary with "…"
    end-64  64    Ed25519 signature

The program id of version 1 is gone: a key belongs to one program, so the kid says it. The
signed message is "campaignid-card-v2" || len(code) || code || payload.

Version 1 (cards issued before): RFC 4648 base32 (alphabet A-Z 2-7, upper case, no "="
padding) of:

    offset  size  field
    0       1     version = 0x01
    1       5     kid: the signing key's id; the kid string is the base32 of these 5 bytes
    6       1..4  program id: unsigned LEB128 varint (7 bits per byte, least significant group
                  first, high bit 0x80 = "more bytes follow"); minimal (no trailing 0x00 group)
    +0      1     campaign type: index in CAMPAIGN_TYPE_CODES below
    +1      2     issued on: uint16 big-endian, days since 2020-01-01 (day 0)
    +3      2     expires on: uint16 big-endian, days since 2020-01-01; 0xFFFF = never
    +5      2     birth date: uint16 big-endian, days since 1900-01-01; 0xFFFF = unknown
    +7      1     n = length of the name in bytes (encoders wrote at most 40)
    +8      n     name: UTF-8, NFC
    end-64  64    Ed25519 signature (RFC 8032, pure Ed25519)

"Payload" means every byte before the signature. The signature is over

    "campaignid-card-v1" (18 ASCII bytes) || len(code) (1 byte) || code (ASCII) || payload

The card code travels in the URL path, not in the token; the signature binds it, so a token
copied under another code fails. Verifiers reject a token that has more than one spelling
(version 1: non-canonical base32; version 2: a digit count no byte count gives, a number
that does not fit that many bytes), a version that does not match its spelling, a
non-minimal or over-long varint, an unknown campaign-type index, invalid UTF-8, and any byte
count that does not leave exactly 64 signature bytes at the end. The README carries the same
spec with worked examples (test vectors checked by tests/test_signing.py).
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

VERSION = 2
V1 = 1
# The domain tag of each version: a signature is never valid for another version's bytes.
SIGNING_TAGS = {1: b"campaignid-card-v1", 2: b"campaignid-card-v2"}
SIGNATURE_SIZE = 64
KID_SIZE = 5
# The longest name a new (version 2) token carries, in UTF-8 bytes: what keeps the QR at
# version 10, level Q, with a 44-character base URL (README "Size and the QR").
NAME_MAX_BYTES = 20
# What version 1 encoders wrote.
V1_NAME_MAX_BYTES = 40
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
_DECIMAL_TOKEN = re.compile(r"[0-9]+")
# version 2: version, kid, type, three dates.
V2_FIXED_SIZE = 1 + KID_SIZE + 1 + 6

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
    # Version 1 tokens only (version 2 leaves it out: the key says the program); None else.
    program_id: int | None
    campaign_type: str
    issued_on: date
    expires_on: date | None


class CardSigner:
    """Signs many tokens with one loaded private key (loading decrypts, so do it once a job)."""

    def __init__(self, key, private_key=None):
        self.kid = key.kid
        self._kid_bytes = kid_bytes(key.kid)
        self._private_key = private_key or private_key_of(key)

    def sign(self, *, code: str, payload: CardClaims, version: int = VERSION) -> str:
        """A version 2 token; version=1 writes the old format (its test vectors)."""
        body = encode_payload(payload, kid=self._kid_bytes, version=version)
        signature = self._private_key.sign(signing_input(code, body))
        if version == V1:
            return _b32encode(body + signature)
        return decimal_encode(body + signature)


def private_key_of(key):
    """The Ed25519 private key of a cards.models.SigningKey, decrypted."""
    # Imported here so the format itself needs no settings (scripts, other tools).
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from campaignid import crypto

    return Ed25519PrivateKey.from_private_bytes(crypto.decrypt(key.private_key_encrypted))


def token_campaign_type(campaign) -> str:
    """The type a card of `campaign` carries in its token: NEUTRAL_TYPE for a sensitive
    campaign (HIV, or one flagged sensitive), else the campaign's own type."""
    return NEUTRAL_TYPE if campaign.is_sensitive else campaign.campaign_type


def card_token_sign(*, code: str, payload: CardClaims, key) -> str:
    """The token for one card, signed with `key` (a cards.models.SigningKey)."""
    return CardSigner(key).sign(code=code, payload=payload)


def card_token_decode(token: str) -> tuple[CardClaims, str, bytes, bytes]:
    """Parses without verifying: (claims, kid, payload bytes, signature).

    The signed message is `signing_input(code, payload bytes)`. Digits are a version 2
    token, base32 a version 1 token.
    """
    if isinstance(token, str) and _DECIMAL_TOKEN.fullmatch(token):
        return _decode_v2(decimal_decode(token))
    raw = _b32decode(token)
    if len(raw) < 1 + KID_SIZE + 1 + 1 + 6 + 1 + SIGNATURE_SIZE:
        raise InvalidCardToken(BAD_ENCODING, "too short")
    if raw[0] != V1:
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
    claims = _claims(name_bytes, type_index, issued, expires, born, program_id)
    return claims, kid, body, signature


def _decode_v2(raw: bytes) -> tuple[CardClaims, str, bytes, bytes]:
    if len(raw) < V2_FIXED_SIZE + SIGNATURE_SIZE:
        raise InvalidCardToken(BAD_ENCODING, "too short")
    if raw[0] != VERSION:
        raise InvalidCardToken(BAD_ENCODING, f"unsupported version {raw[0]}")
    body, signature = raw[:-SIGNATURE_SIZE], raw[-SIGNATURE_SIZE:]
    kid = base64.b32encode(body[1 : 1 + KID_SIZE]).decode("ascii")
    type_index = body[1 + KID_SIZE]
    if type_index >= len(CAMPAIGN_TYPE_CODES):
        raise InvalidCardToken(BAD_ENCODING, f"unknown campaign type {type_index}")
    issued, expires, born = struct.unpack_from(">HHH", body, 2 + KID_SIZE)
    claims = _claims(body[V2_FIXED_SIZE:], type_index, issued, expires, born, None)
    return claims, kid, body, signature


def _claims(name_bytes, type_index, issued, expires, born, program_id) -> CardClaims:
    try:
        name = name_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidCardToken(BAD_ENCODING, "name is not UTF-8") from exc
    if issued == NO_DATE:
        raise InvalidCardToken(BAD_ENCODING, "no issue date")
    return CardClaims(
        name=name,
        birth_date=None if born == NO_DATE else BIRTH_EPOCH + timedelta(days=born),
        program_id=program_id,
        campaign_type=CAMPAIGN_TYPE_CODES[type_index],
        issued_on=ISSUE_EPOCH + timedelta(days=issued),
        expires_on=None if expires == NO_DATE else ISSUE_EPOCH + timedelta(days=expires),
    )


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
    """tag of the payload's version || len(code) || code || payload."""
    code_bytes = code.encode("utf-8")
    if len(code_bytes) > 255:
        raise InvalidCardToken(BAD_SIGNATURE, "card code too long")
    tag = SIGNING_TAGS.get(payload[0] if payload else None)
    if tag is None:
        raise InvalidCardToken(BAD_ENCODING, "unsupported version")
    return tag + bytes([len(code_bytes)]) + code_bytes + payload


def encode_payload(claims: CardClaims, *, kid: bytes, version: int = VERSION) -> bytes:
    """The payload bytes (everything the signature follows); ValueError names a bad field."""
    if len(kid) != KID_SIZE:
        raise ValueError(f"kid must be {KID_SIZE} bytes")
    if version not in SIGNING_TAGS:
        raise ValueError(f"version: no token version {version}")
    try:
        type_index = CAMPAIGN_TYPE_CODES.index(claims.campaign_type)
    except ValueError:
        raise ValueError(f"campaign_type: unknown type {claims.campaign_type!r}") from None
    dates = struct.pack(
        ">HHH",
        _day_number(claims.issued_on, ISSUE_EPOCH, "issued_on"),
        _day_number(claims.expires_on, ISSUE_EPOCH, "expires_on"),
        _day_number(claims.birth_date, BIRTH_EPOCH, "birth_date"),
    )
    name = unicodedata.normalize("NFC", claims.name)
    if version == V1:
        name = truncate_utf8(name, V1_NAME_MAX_BYTES)
        return b"".join((bytes([V1]), kid, _varint(claims.program_id), bytes([type_index]),
                         dates, bytes([len(name)]), name))
    name = truncate_utf8(name, NAME_MAX_BYTES)
    return b"".join((bytes([VERSION]), kid, bytes([type_index]), dates, name))


ELLIPSIS = "\u2026"


def token_name(first_name: str, last_name: str, max_bytes: int = NAME_MAX_BYTES) -> str:
    """The holder's name as a token carries it: whole when it fits; else the given names
    become initials, last one first ("Mame Diarra Bousso" "Ndiaye" -> "Mame D. B. Ndiaye"),
    so the family name a checker compares stays whole; only then is it cut with "…"
    (truncate_utf8, which encode_payload applies anyway)."""
    given = unicodedata.normalize("NFC", first_name).split()
    family = unicodedata.normalize("NFC", last_name).strip()

    def joined():
        return " ".join([*given, family] if family else given)

    for index in reversed(range(len(given))):
        if len(joined().encode("utf-8")) <= max_bytes:
            break
        given[index] = given[index][0] + "."
    return joined()


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


def decimal_digits(size: int) -> int:
    """D(n): the digits of a version 2 token of n bytes, those of 256^n - 1."""
    return len(str((1 << (8 * size)) - 1))


def decimal_encode(data: bytes) -> str:
    """Version 2's spelling: the bytes as one big-endian number, in D(n) decimal digits."""
    return str(int.from_bytes(data, "big")).zfill(decimal_digits(len(data)))


def decimal_decode(token: str) -> bytes:
    """The bytes of a version 2 token; one spelling per token, like base32 in version 1."""
    if not isinstance(token, str) or not _DECIMAL_TOKEN.fullmatch(token):
        raise InvalidCardToken(BAD_ENCODING, "not decimal digits")
    if len(token) > MAX_DECIMAL_DIGITS:
        raise InvalidCardToken(BAD_ENCODING, "too long")
    # D(n) grows by 2 or 3 a byte: at most one n gives this many digits.
    size = int(len(token) / DIGITS_PER_BYTE)
    for candidate in (size - 1, size, size + 1):
        if candidate > 0 and decimal_digits(candidate) == len(token):
            value = int(token)
            if value >> (8 * candidate):
                raise InvalidCardToken(BAD_ENCODING, "number larger than its digit count allows")
            return value.to_bytes(candidate, "big")
    raise InvalidCardToken(BAD_ENCODING, "impossible digit count")


# No card token comes near (a name of 255 bytes would make ~810 digits); keeps int() of an
# arbitrary pasted string cheap and under Python's digit limit.
MAX_DECIMAL_DIGITS = 1000
# log10(256): decimal digits a byte, on average.
DIGITS_PER_BYTE = 2.408239965311849


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
