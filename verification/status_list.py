"""Signed status lists: every card of a campaign as 16 bytes, signed by the program's key.

The offline portal carries one (registry.js) and the public endpoint /v/status/<PREFIX>.bin
serves the newest; the browser checks it with the same verifier as card tokens (verify.js).

    offset  size  field
    0       4     "CIDS"
    4       1     format = 1
    5       4     n = header length, uint32 big-endian
    9       n     header: JSON, ASCII only (see `status_list_header`)
    9+n     16*N  records, sorted by their first 10 bytes
    end-64  64    Ed25519 signature of "campaignid-status-v1" || every byte before it

A record:

    10 bytes  SHA-256(card code as ASCII)[:10]
    2         issued on: uint16 BE, days since 2020-01-01 (as in the card token)
    2         expires on: uint16 BE, days since 2020-01-01; 0xFFFF = never
    2         state: 0xFFFF valid; 0xFFFE signed by a withdrawn key; else the day the card was
              revoked (days since 2020-01-01, in the program's timezone)

The tag differs from the card token's ("campaignid-card-v1"): a list signature can never pass
for a card's, nor the reverse. The header names the signing key (`kid`: the program's active
key when the list was signed) and carries the program's public keys with their status, so a
portal checks later tokens and lists against them.

Why 10 bytes of hash: lookups compare prefixes, so two codes sharing one would share a status.
Among 1,000,000 cards the chance that any two collide is 1e12 / 2^81 ≈ 4e-13, and that a
code typed at random (or a forger's) lands on some card's prefix is 1e6 / 2^80 ≈ 1e-18. The
code itself has ~40 random bits: the hash keeps the list from being a list of codes, no more
(verification/registry.py says why no salt). "Expired" is not stored: the reader compares the
expiry day with its own today.
"""

import hashlib
import json
import struct
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cards.models import Card
from cards.signing_keys import (
    private_key,
    program_jwks,
    signing_key_for,
    token_kid,
    withdrawn_kids,
)
from cards.tokens import ISSUE_EPOCH, NO_DATE
from verification.models import StatusList
from verification.public import public_campaign_name

MAGIC = b"CIDS"
FORMAT = 1
SIGNING_TAG = b"campaignid-status-v1"
HASH_BYTES = 10
RECORD = struct.Struct(">10sHHH")
VALID_STATE = 0xFFFF
WITHDRAWN_STATE = 0xFFFE
SIGNATURE_SIZE = 64
_PREAMBLE = struct.Struct(">4sBI")


class InvalidStatusList(Exception):
    """Not a status list, or not signed by a key given (`reason` says which)."""

    def __init__(self, reason):
        self.reason = reason
        super().__init__(reason)


def code_prefix(code: str) -> bytes:
    return hashlib.sha256(code.encode("ascii")).digest()[:HASH_BYTES]


def day_number(day: date | None) -> int:
    return NO_DATE if day is None else (day - ISSUE_EPOCH).days


def encode_records(rows) -> bytes:
    """`rows`: (code, issued_on, expires_on, revoked_on or None, signed by a withdrawn key).
    The records, sorted: the order says nothing of who was carded when."""
    records = []
    for code, issued_on, expires_on, revoked_on, withdrawn in rows:
        if revoked_on is not None:
            state = day_number(revoked_on)
        else:
            state = WITHDRAWN_STATE if withdrawn else VALID_STATE
        records.append(
            RECORD.pack(code_prefix(code), day_number(issued_on), day_number(expires_on), state)
        )
    records.sort()
    return b"".join(records)


def campaign_rows(*, campaign, beneficiaries=None):
    """The campaign's cards as `encode_records` rows (optionally only `beneficiaries`' cards,
    a queryset of ids: a portal per district)."""
    zone = ZoneInfo(campaign.program.timezone)
    withdrawn = withdrawn_kids(program=campaign.program)
    cards = Card.objects.filter(campaign=campaign).order_by()
    if beneficiaries is not None:
        cards = cards.filter(beneficiary_id__in=beneficiaries)
    # The tokens are read only when a key was withdrawn: which key signed a card is in them.
    fields = ["code", "issued_on", "expires_on", "revoked_at", *(["token"] if withdrawn else [])]
    for code, issued_on, expires_on, revoked_at, *token in (
            cards.values_list(*fields).iterator(chunk_size=5000)):
        revoked_on = timezone.localtime(revoked_at, zone).date() if revoked_at else None
        yield code, issued_on, expires_on, revoked_on, bool(token) and (
            token_kid(token[0]) in withdrawn
        )


def status_list_header(*, campaign, key, sequence, issued_at, count, job=None, part=None):
    program = campaign.program
    header = {
        "format": FORMAT,
        "program": program.slug,
        "program_name": program.name,
        "campaign": campaign.prefix,
        # A sensitive campaign's name can say what its holders are treated for.
        "label": public_campaign_name(campaign),
        "language": campaign.language,
        "sequence": sequence,
        "issued_at": issued_at.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ"),
        # The program's wall clock, which the portal prints ("Statut au …").
        "status_at": timezone.localtime(issued_at, ZoneInfo(program.timezone)).strftime(
            "%Y-%m-%dT%H:%M"
        ),
        "max_age_days": settings.STATUS_LIST_MAX_AGE_DAYS,
        "status_url": settings.PUBLIC_BASE_URL
        + reverse("verification-status-list", kwargs={"prefix": campaign.prefix}),
        "count": count,
        "kid": key.kid,
        "keys": program_jwks(program=program),
    }
    if job is not None:
        header["job"] = job.pk
    if part is not None:
        # One portal of a split round: its cards only, never mistaken for the whole list.
        header["part"] = part
    return header


def sign_status_list(*, header: dict, records: bytes, key) -> bytes:
    head = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    body = _PREAMBLE.pack(MAGIC, FORMAT, len(head)) + head + records
    return body + private_key(key).sign(SIGNING_TAG + body)


def status_list_issue(*, campaign, job=None, beneficiaries=None, part=None) -> bytes:
    """A new signed list of the campaign's cards now, with the next sequence number. The
    whole campaign's list is kept as its newest (the public endpoint serves it); a part (a
    district's portal) takes a number but is not served."""
    key = signing_key_for(program=campaign.program)
    with transaction.atomic():
        # The row lock orders the numbers and the reads: a higher number never holds older
        # statuses than a lower one.
        row, _created = StatusList.objects.select_for_update().get_or_create(campaign=campaign)
        records = encode_records(campaign_rows(campaign=campaign, beneficiaries=beneficiaries))
        row.sequence += 1
        issued_at = timezone.now()
        header = status_list_header(
            campaign=campaign, key=key, sequence=row.sequence, issued_at=issued_at,
            count=len(records) // RECORD.size, job=job, part=part,
        )
        blob = sign_status_list(header=header, records=records, key=key)
        fields = ["sequence"]
        if part is None:
            row.issued_at, row.body = issued_at, blob
            fields += ["issued_at", "body"]
        row.save(update_fields=fields)
    return blob


def published_status_list(*, campaign, fresh_seconds=None) -> tuple[bytes, int]:
    """(list, sequence): the campaign's newest list if signed less than `fresh_seconds` ago
    (default settings.STATUS_LIST_REFRESH_SECONDS), else a new one. Many verifiers asking
    at once share one list and one number."""
    fresh_seconds = settings.STATUS_LIST_REFRESH_SECONDS if fresh_seconds is None else fresh_seconds
    row = StatusList.objects.filter(campaign=campaign).first()
    now = timezone.now()
    if row is not None and row.issued_at and (now - row.issued_at).total_seconds() < fresh_seconds:
        return bytes(row.body), row.sequence
    blob = status_list_issue(campaign=campaign)
    return blob, status_list_decode(blob)[0]["sequence"]


# Reading (tools, tests; the browser has its own in verify.js) ---------------------------


def status_list_decode(blob: bytes, public_keys: dict | None = None) -> tuple[dict, bytes]:
    """(header, records). With `public_keys` (kid -> raw 32 bytes) the signature must verify
    with the key the header names; InvalidStatusList otherwise."""
    if len(blob) < _PREAMBLE.size + SIGNATURE_SIZE:
        raise InvalidStatusList("too short")
    magic, version, head_size = _PREAMBLE.unpack_from(blob)
    if magic != MAGIC or version != FORMAT:
        raise InvalidStatusList("not a status list")
    body, signature = blob[:-SIGNATURE_SIZE], blob[-SIGNATURE_SIZE:]
    records = body[_PREAMBLE.size + head_size :]
    if len(records) % RECORD.size:
        raise InvalidStatusList("truncated records")
    header = json.loads(body[_PREAMBLE.size : _PREAMBLE.size + head_size])
    if public_keys is not None:
        raw = public_keys.get(header.get("kid"))
        if raw is None:
            raise InvalidStatusList("unknown key")
        try:
            Ed25519PublicKey.from_public_bytes(raw).verify(signature, SIGNING_TAG + body)
        except (InvalidSignature, ValueError) as exc:
            raise InvalidStatusList("bad signature") from exc
    return header, records


def status_of(records: bytes, code: str) -> dict | None:
    """The record of `code` as {"s": valid|revoked|withdrawn, "i", "e", "r"} (ISO days), or
    None: a binary search, as the portal does."""
    wanted = code_prefix(code)
    low, high = 0, len(records) // RECORD.size
    while low < high:
        middle = (low + high) // 2
        prefix = records[middle * RECORD.size : middle * RECORD.size + HASH_BYTES]
        if prefix < wanted:
            low = middle + 1
        elif prefix > wanted:
            high = middle
        else:
            _prefix, issued, expires, state = RECORD.unpack_from(records, middle * RECORD.size)
            return {
                "s": {VALID_STATE: "valid", WITHDRAWN_STATE: "withdrawn"}.get(state, "revoked"),
                "i": _iso(issued),
                "e": _iso(expires),
                "r": None if state in (VALID_STATE, WITHDRAWN_STATE) else _iso(state),
            }
    return None


def _iso(number):
    return None if number == NO_DATE else (ISSUE_EPOCH + timedelta(days=number)).isoformat()
