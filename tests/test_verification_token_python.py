"""A third party verifies a card with nothing but the published keys, fetched over HTTP, the
token format spec and the `cryptography` package (none of our verification code)."""

import base64
import hashlib
import json
import struct
import urllib.request
from datetime import date, timedelta

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cards.issuing import cards_assign
from cards.signing_keys import signing_key_for
from cards.tokens import CardClaims, CardSigner
from tests.factories import make_beneficiary, make_campaign, make_job, make_program

pytestmark = pytest.mark.django_db(transaction=True)

TYPES = ("vaccination", "mild", "nutrition", "antenatal", "hiv", "insurance", "refugee",
         "identity", "lab", "cps", "farmercard", "health")


class Refused(Exception):
    pass


def published_keys(base_url):
    with urllib.request.urlopen(f"{base_url}/.well-known/campaignid-keys.json") as response:
        return json.load(response)["keys"]


def verify(*, code, token, keys, program_slug):
    """The README's "Verifying" steps, written from the spec alone."""
    if token.isascii() and token.isdigit():
        payload, signature, fields = _version_2(token)
    else:
        payload, signature, fields = _version_1(token)
    kid = base64.b32encode(payload[1:6]).decode()
    # Only the card's program's keys: another program's key is no key for this card.
    key = next((k for k in keys if k["kid"] == kid and k["program"] == program_slug), None)
    if key is None:
        raise Refused("unknown key")
    public = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(key["x"] + "="))
    tag = b"campaignid-card-v%d" % payload[0]
    try:
        public.verify(signature, tag + bytes([len(code)]) + code.encode() + payload)
    except InvalidSignature:
        raise Refused("bad signature") from None
    program_id, type_index, issued, expires, born, name = fields
    return {
        "name": name.decode("utf-8"),
        "program_id": program_id,
        "campaign_type": TYPES[type_index],
        "issued_on": date(2020, 1, 1) + timedelta(days=issued),
        "expires_on": None if expires == 0xFFFF else date(2020, 1, 1) + timedelta(days=expires),
        "birth_date": None if born == 0xFFFF else date(1900, 1, 1) + timedelta(days=born),
    }


def _version_2(token):
    """Decimal digits: the bytes as one big-endian number, D(n) digits for n bytes."""
    size = next((n for n in range(1, 400) if len(str(256**n - 1)) == len(token)), None)
    if size is None or int(token) >= 256**size:
        raise Refused("bad encoding")
    raw = int(token).to_bytes(size, "big")
    payload, signature = raw[:-64], raw[-64:]
    if payload[0] != 2:
        raise Refused("bad encoding")
    type_index = payload[6]
    issued, expires, born = struct.unpack(">HHH", payload[7:13])
    return payload, signature, (None, type_index, issued, expires, born, payload[13:])


def _version_1(token):
    if not token or set(token) - set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"):
        raise Refused("bad encoding")
    if len(token) % 8 not in (0, 2, 4, 5, 7):
        raise Refused("bad encoding")
    raw = base64.b32decode(token + "=" * (-len(token) % 8))
    if base64.b32encode(raw).decode().rstrip("=") != token:
        raise Refused("bad encoding")
    payload, signature = raw[:-64], raw[-64:]
    if payload[0] != 1:
        raise Refused("bad encoding")
    program_id, shift, pos = 0, 0, 6
    while True:
        byte = payload[pos]
        program_id |= (byte & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if not byte & 0x80:
            break
    type_index = payload[pos]
    issued, expires, born = struct.unpack(">HHH", payload[pos + 1:pos + 7])
    name = payload[pos + 8:pos + 8 + payload[pos + 7]]
    return payload, signature, (program_id, type_index, issued, expires, born, name)


def _issued_card(**campaign_fields):
    program = make_program()
    campaign_fields.setdefault("campaign_type", "nutrition")
    campaign = make_campaign(program=program, card_validity_months=12, **campaign_fields)
    person = make_beneficiary(campaign=campaign, first_name="Ndèye Fatou", last_name="Guèye",
                              date_of_birth=date(2021, 2, 28))
    (card,) = cards_assign(job=make_job(campaign=campaign), beneficiaries=[person])
    return program, card


def test_a_generated_cards_token_verifies_with_the_published_keys_alone(live_server):
    program, card = _issued_card()

    claims = verify(code=card.code, token=card.token, keys=published_keys(live_server.url),
                    program_slug=program.slug)

    assert claims == {
        "name": "Ndèye Fatou Guèye",
        "program_id": None,  # version 2: the key says the program
        "campaign_type": "nutrition",
        "issued_on": card.issued_on,
        "expires_on": card.expires_on,
        "birth_date": date(2021, 2, 28),
    }


def test_a_published_kid_matches_its_key(live_server):
    _issued_card()

    for key in published_keys(live_server.url):
        raw = base64.urlsafe_b64decode(key["x"] + "=")
        assert base64.b32encode(hashlib.sha256(raw).digest()[:5]).decode() == key["kid"]


def test_a_version_1_card_still_verifies_with_the_published_keys_alone(live_server):
    program, card = _issued_card()
    old = CardSigner(signing_key_for(program=program)).sign(
        code=card.code, version=1,
        payload=CardClaims(name="Ndèye Fatou Guèye", birth_date=date(2021, 2, 28),
                           program_id=program.pk, campaign_type="nutrition",
                           issued_on=card.issued_on, expires_on=card.expires_on),
    )

    claims = verify(code=card.code, token=old, keys=published_keys(live_server.url),
                    program_slug=program.slug)

    assert (claims["name"], claims["program_id"]) == ("Ndèye Fatou Guèye", program.pk)


def test_a_token_signed_by_another_programs_key_is_refused(live_server):
    program, card = _issued_card()
    intruder = make_program()
    forged = CardSigner(signing_key_for(program=intruder)).sign(
        code=card.code,
        payload=CardClaims(name="Someone Else", birth_date=date(2000, 1, 1),
                           program_id=program.pk, campaign_type="nutrition",
                           issued_on=card.issued_on, expires_on=card.expires_on),
    )

    with pytest.raises(Refused, match="unknown key"):
        verify(code=card.code, token=forged, keys=published_keys(live_server.url),
               program_slug=program.slug)


def test_a_token_copied_under_another_code_is_refused(live_server):
    program, card = _issued_card()
    (other,) = cards_assign(
        job=make_job(campaign=card.campaign),
        beneficiaries=[make_beneficiary(campaign=card.campaign)],
    )

    with pytest.raises(Refused, match="bad signature"):
        verify(code=other.code, token=card.token, keys=published_keys(live_server.url),
               program_slug=program.slug)


def test_an_hiv_campaigns_card_carries_the_neutral_type(live_server):
    program, card = _issued_card(campaign_type="hiv")

    claims = verify(code=card.code, token=card.token, keys=published_keys(live_server.url),
                    program_slug=program.slug)

    assert claims["campaign_type"] == "health"


def test_a_campaign_flagged_sensitive_signs_the_neutral_type(live_server):
    program, card = _issued_card(campaign_type="lab", sensitive=True)

    claims = verify(code=card.code, token=card.token, keys=published_keys(live_server.url),
                    program_slug=program.slug)

    assert claims["campaign_type"] == "health"


def test_a_name_too_long_for_the_token_is_marked_as_shortened():
    from cards.tokens import NAME_MAX_BYTES, truncate_utf8

    name = "Ramatoulaye Ouédraogo-N'Guessan Diallo Sow"
    cut = truncate_utf8(name, NAME_MAX_BYTES)
    assert len(cut) <= NAME_MAX_BYTES
    assert cut.decode().endswith("…")
    assert name.startswith(cut.decode()[:-1])


def test_a_name_that_fits_is_kept_whole():
    from cards.tokens import NAME_MAX_BYTES, truncate_utf8

    assert truncate_utf8("Aïssatou N'Diaye", NAME_MAX_BYTES).decode() == "Aïssatou N'Diaye"
