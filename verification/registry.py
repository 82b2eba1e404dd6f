"""The registry: what an offline verifier needs to know about a campaign's cards, as JSON
for API integrators (GET /api/campaigns/<id>/registry.json). The offline portal carries the
same statuses as a signed binary status list instead (verification/status_list.py).

    {"version": 1, "generated_at": "2026-01-15T09:30:00Z", "program": "<slug>",
     "program_name": "…", "campaign": "<prefix>", "language": "fr" (the portal's default),
     "job": 12 (only when built for a job's portal),
     "keys": {"keys": [<the program's JWKs, active and retired>]},
     "cards": {"<code hash>": {"s": "valid" | "revoked" | "withdrawn", "i": "YYYY-MM-DD",
                               "e": "YYYY-MM-DD" | null, "r": "YYYY-MM-DD" | null}}}

"withdrawn": the card's token was signed by a key the program withdrew. `i` is the issue day,
`e` the last day the card is valid (null: it does not expire), `r` the day it was revoked (in
the program's timezone). "Expired" is not stored: the reader
compares `e` with its own today, so an old portal still answers right.

No names, phone numbers, birth dates or campaign types: a copied portal must not let anyone
rebuild a list of people. A card appears only as the hash of its code:

    code hash = base64url(SHA-256(code as ASCII)[:16]), no padding (22 characters)

Why plain SHA-256, with no salt or key: the portal must compute the hash offline, so any key
would ship inside the portal and a salt published beside the hashes stops nothing. The code
is random (8 characters of a 31-letter alphabet, ~40 bits after its public prefix), so
someone with a GPU could enumerate the codes in this file; what they would then hold is a
list of random codes with dates, which anyone can already check one by one on the online
page. Who a code belongs to is written only in the card's signed token (the QR), never here.
The hash keeps the file from being a ready-made list of codes, and 16 bytes keep it under
1 MB for 10,000 cards (measured: tests/test_verification_api.py) with no risk of collision.
"""

import base64
import hashlib
import json
from zoneinfo import ZoneInfo

from django.utils import timezone

from cards.models import Card
from cards.signing_keys import program_jwks, token_kid, withdrawn_kids

REGISTRY_VERSION = 1
CODE_HASH_BYTES = 16
VALID = "valid"
REVOKED = "revoked"
WITHDRAWN = "withdrawn"


def code_hash(code: str) -> str:
    digest = hashlib.sha256(code.encode("ascii")).digest()[:CODE_HASH_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def registry_for(*, campaign=None, job=None) -> dict:
    """A fresh registry of the campaign's cards (for a job: every card of its campaign, so the
    newest portal also knows the cards of earlier jobs)."""
    registry = registry_head(campaign=campaign, job=job)
    members = registry_card_members(campaign=campaign or job.campaign)
    # Member by member as bytes: a 200,000-card registry stays small in memory.
    registry["cards"] = json.loads(b"{" + b",".join(members) + b"}")
    return registry


def registry_head(*, campaign=None, job=None) -> dict:
    """The registry without its "cards"."""
    if (campaign is None) == (job is None):
        raise TypeError("registry_head takes campaign or job")
    if job is not None:
        campaign = job.campaign
    program = campaign.program
    registry = {
        "version": REGISTRY_VERSION,
        "generated_at": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "program": program.slug,
        "program_name": program.name,
        "campaign": campaign.prefix,
        "language": campaign.language,
    }
    if job is not None:
        registry["job"] = job.pk
    registry["keys"] = program_jwks(program=program)
    return registry


def registry_card_members(*, campaign) -> list[bytes]:
    """Each card of the campaign as its member of the registry's "cards" object,
    `"<code hash>":{"s":…}`, sorted by hash: the order says nothing about who was carded
    when (the print order). Bytes, ~100 a card: a 200,000-card portal is built in a worker
    that must stay small, where dicts would cost ~600 bytes a card."""
    program_zone = ZoneInfo(campaign.program.timezone)
    withdrawn = withdrawn_kids(program=campaign.program)
    dates = {}  # a campaign's cards share a handful of dates: one string each
    members = []
    rows = (
        Card.objects.filter(campaign=campaign)
        .order_by()
        .values_list("code", "issued_on", "expires_on", "revoked_at", "token")
    )
    for code, issued_on, expires_on, revoked_at, token in rows.iterator(chunk_size=5000):
        revoked_on = timezone.localtime(revoked_at, program_zone).date() if revoked_at else None
        status = VALID
        if revoked_at:
            status = REVOKED
        elif withdrawn and token_kid(token) in withdrawn:
            status = WITHDRAWN
        entry = {
            "s": status,
            "i": _iso(dates, issued_on),
            "e": _iso(dates, expires_on),
            "r": _iso(dates, revoked_on),
        }
        members.append(b'"%s":%s' % (code_hash(code).encode(), registry_json(entry)))
    # Hashes have one length and `"` sorts before any base64url character: sorting the
    # members sorts by hash.
    members.sort()
    return members


def _iso(dates, day):
    if day is None:
        return None
    text = dates.get(day)
    if text is None:
        text = dates[day] = day.isoformat()
    return text


def registry_json(registry: dict) -> bytes:
    """Compact JSON, ASCII only (safe to embed in a script as is)."""
    return json.dumps(registry, separators=(",", ":"), ensure_ascii=True).encode("ascii")
