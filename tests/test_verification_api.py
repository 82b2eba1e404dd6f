"""Published keys, card state and revocation over the API, and the offline registry."""

import base64
import hashlib
import json
import random
from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from campaigns.models import Role
from cards.codes import CODE_ALPHABET
from cards.issuing import cards_assign
from cards.models import Card
from cards.revocation import CardStateConflict, card_revoke, card_unrevoke
from cards.signing_keys import signing_key_for, signing_key_rotate
from tests.factories import (
    api_client,
    make_api_key,
    make_beneficiaries,
    make_beneficiary,
    make_campaign,
    make_card,
    make_job,
    make_program,
)
from verification.registry import code_hash, registry_for, registry_json

pytestmark = pytest.mark.django_db

KEYS_URL = "/.well-known/campaignid-keys.json"


def _program_with_card(**campaign_fields):
    program = make_program()
    campaign = make_campaign(program=program, card_validity_months=12, **campaign_fields)
    card = make_card(campaign=campaign, expires_on=date.today() + timedelta(days=365))
    return program, campaign, card


# Published keys ---------------------------------------------------------------------------


def test_published_keys_are_every_programs_ed25519_keys_including_retired_ones():
    first, second = make_program(), make_program()
    retired = signing_key_for(program=first)
    active = signing_key_rotate(program=first)
    other = signing_key_for(program=second)

    response = Client().get(KEYS_URL)

    assert response.status_code == 200
    keys = {key["kid"]: key for key in response.json()["keys"]}
    assert set(keys) == {retired.kid, active.kid, other.kid}
    assert keys[retired.kid]["status"] == "retired"
    assert keys[active.kid]["status"] == "active"
    assert keys[other.kid]["program"] == second.slug
    for key in keys.values():
        assert {key["kty"], key["crv"], key["use"], key["alg"]} == {"OKP", "Ed25519", "sig",
                                                                     "EdDSA"}
        raw = base64.urlsafe_b64decode(key["x"] + "=")
        assert len(raw) == 32
        # kid = base32 of the first 5 bytes of SHA-256 of the raw key.
        assert base64.b32encode(hashlib.sha256(raw).digest()[:5]).decode() == key["kid"]


def test_published_keys_are_cacheable_for_five_minutes_and_readable_from_any_origin():
    response = Client().get(KEYS_URL)

    assert "max-age=300" in response["Cache-Control"]
    assert "public" in response["Cache-Control"]
    assert response["Access-Control-Allow-Origin"] == "*"


# Card state -------------------------------------------------------------------------------


def test_card_detail_gives_status_dates_campaign_and_no_token():
    program, campaign, card = _program_with_card()
    client = api_client(make_api_key(program=program, role=Role.VIEWER))

    response = client.get(f"/api/cards/{card.code}")

    assert response.status_code == 200
    body = response.json()
    assert body["code"] == card.code
    assert body["status"] == "valid"
    assert body["issued_on"] == card.issued_on.isoformat()
    assert body["expires_on"] == card.expires_on.isoformat()
    assert body["campaign"] == {"id": campaign.pk, "name": campaign.name,
                                "prefix": campaign.prefix, "campaign_type": "vaccination"}
    assert body["revoked"] is False
    assert body["revoked_at"] is None
    assert "token" not in body
    assert card.token not in response.content.decode()


def test_card_detail_answers_with_or_without_trailing_slash_and_in_any_case():
    program, _campaign, card = _program_with_card()
    client = api_client(make_api_key(program=program))

    assert client.get(f"/api/cards/{card.code}/").status_code == 200
    assert client.get(f"/api/cards/{card.code.lower()}").json()["code"] == card.code


def test_an_expired_card_reads_expired():
    program = make_program()
    campaign = make_campaign(program=program)
    card = make_card(campaign=campaign, issued_on=date(2024, 1, 1), expires_on=date(2024, 12, 31))

    body = api_client(make_api_key(program=program)).get(f"/api/cards/{card.code}").json()

    assert body["status"] == "expired"


def test_another_programs_card_answers_404_everywhere():
    _program, _campaign, card = _program_with_card()
    client = api_client(make_api_key(program=make_program()))

    assert client.get(f"/api/cards/{card.code}").status_code == 404
    assert client.post(f"/api/cards/{card.code}/revoke", {"reason": "x"},
                       format="json").status_code == 404
    assert client.post(f"/api/cards/{card.code}/unrevoke").status_code == 404
    card.refresh_from_db()
    assert card.revoked_at is None


def test_an_unknown_code_answers_404_with_a_json_error():
    client = api_client(make_api_key(program=make_program()))

    response = client.get("/api/cards/NOPE-ABCDEFGH")

    assert response.status_code == 404
    assert "error" in response.json()


# Revocation -------------------------------------------------------------------------------


def test_revoking_stores_the_reason_and_the_date():
    program, _campaign, card = _program_with_card()
    client = api_client(make_api_key(program=program, role=Role.OPERATOR))

    response = client.post(f"/api/cards/{card.code}/revoke", {"reason": "Card lost"},
                           format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "revoked"
    assert body["revoked"] is True
    assert body["revoked_reason"] == "Card lost"
    card.refresh_from_db()
    assert card.revoked_reason == "Card lost"
    assert abs(card.revoked_at - timezone.now()) < timedelta(minutes=1)


def test_revoking_without_a_reason_names_the_field():
    program, _campaign, card = _program_with_card()
    client = api_client(make_api_key(program=program))

    for payload in ({}, {"reason": ""}, {"reason": "   "}):
        response = client.post(f"/api/cards/{card.code}/revoke", payload, format="json")
        assert response.status_code == 400, payload
        assert "reason" in response.json()["fields"]
    card.refresh_from_db()
    assert card.revoked_at is None


def test_revoking_a_revoked_card_is_a_conflict():
    program, _campaign, card = _program_with_card()
    client = api_client(make_api_key(program=program))
    client.post(f"/api/cards/{card.code}/revoke", {"reason": "stolen"}, format="json")

    response = client.post(f"/api/cards/{card.code}/revoke/", {"reason": "again"},
                           format="json")

    assert response.status_code == 409
    card.refresh_from_db()
    assert card.revoked_reason == "stolen"


def test_unrevoking_makes_the_card_valid_again():
    program, _campaign, card = _program_with_card()
    card_revoke(card=card, reason="mistake")
    client = api_client(make_api_key(program=program))

    response = client.post(f"/api/cards/{card.code}/unrevoke")

    assert response.status_code == 200
    assert response.json()["status"] == "valid"
    card.refresh_from_db()
    assert card.revoked_at is None
    assert card.revoked_reason == ""


def test_unrevoking_a_valid_card_is_a_conflict():
    program, _campaign, card = _program_with_card()

    response = api_client(make_api_key(program=program)).post(f"/api/cards/{card.code}/unrevoke")

    assert response.status_code == 409


def test_a_viewer_cannot_revoke_or_unrevoke():
    program, _campaign, card = _program_with_card()
    client = api_client(make_api_key(program=program, role=Role.VIEWER))

    assert client.post(f"/api/cards/{card.code}/revoke", {"reason": "x"},
                       format="json").status_code == 403
    assert client.post(f"/api/cards/{card.code}/unrevoke").status_code == 403
    card.refresh_from_db()
    assert card.revoked_at is None


def test_the_revoke_service_refuses_a_blank_reason_and_a_second_revocation():
    _program, _campaign, card = _program_with_card()

    with pytest.raises(Exception, match="reason"):
        card_revoke(card=card, reason=" ")
    card_revoke(card=card, reason="lost")
    with pytest.raises(CardStateConflict):
        card_revoke(card=card, reason="lost again")
    card_unrevoke(card=card)
    with pytest.raises(CardStateConflict):
        card_unrevoke(card=card)


# Registry ---------------------------------------------------------------------------------


def test_registry_lists_each_card_by_code_hash_with_status_and_dates():
    program = make_program(slug="dakar-epi")
    campaign = make_campaign(program=program, prefix="DKR-VAC")
    valid = make_card(campaign=campaign, issued_on=date(2026, 1, 15),
                      expires_on=date(2027, 1, 15))
    revoked = make_card(campaign=campaign, issued_on=date(2026, 1, 15))
    card_revoke(card=revoked, reason="lost")

    registry = registry_for(campaign=campaign)

    assert registry["version"] == 1
    assert registry["program"] == "dakar-epi"
    assert registry["campaign"] == "DKR-VAC"
    assert registry["keys"]["keys"][0]["kid"] == signing_key_for(program=program).kid
    revoked_day = timezone.localdate().isoformat()
    assert registry["cards"] == {
        code_hash(valid.code): {"s": "valid", "i": "2026-01-15", "e": "2027-01-15", "r": None},
        code_hash(revoked.code): {"s": "revoked", "i": "2026-01-15", "e": None,
                                  "r": revoked_day},
    }


def test_code_hash_is_the_first_16_bytes_of_sha256_in_base64url():
    digest = hashlib.sha256(b"DKR-VAC-9XQ7LM2A").digest()[:16]

    assert code_hash("DKR-VAC-9XQ7LM2A") == base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert len(code_hash("DKR-VAC-9XQ7LM2A")) == 22


def test_registry_holds_no_names_phones_birth_dates_or_codes():
    program = make_program()
    campaign = make_campaign(program=program, card_validity_months=12)
    people = [
        make_beneficiary(campaign=campaign, first_name="Mariama", last_name="Sarr",
                         phone="+221770000001", date_of_birth=date(1987, 3, 9)),
        make_beneficiary(campaign=campaign, first_name="Ousmane", last_name="Faye",
                         phone="+221781234599", date_of_birth=date(1979, 11, 23)),
    ]
    cards = cards_assign(job=make_job(campaign=campaign), beneficiaries=people)

    text = registry_json(registry_for(campaign=campaign)).decode()

    for forbidden in ("Mariama", "Sarr", "Ousmane", "Faye", "770000001", "781234599",
                      "1987-03-09", "1979-11-23", *[card.code for card in cards],
                      *[card.token[:20] for card in cards]):
        assert forbidden not in text, forbidden
    assert len(json.loads(text)["cards"]) == 2


@pytest.mark.slow
def test_registry_of_10000_cards_is_under_one_megabyte():
    program = make_program()
    campaign = make_campaign(program=program, prefix="DKR-VAC")
    people = make_beneficiaries(campaign=campaign, count=10_000)
    rng = random.Random(7)
    codes = set()
    while len(codes) < 10_000:
        codes.add("DKR-VAC-" + "".join(rng.choice(CODE_ALPHABET) for _ in range(8)))
    Card.objects.bulk_create(
        Card(campaign=campaign, beneficiary=person, code=code, token="-",
             issued_on=date(2026, 1, 15), expires_on=date(2027, 1, 15))
        for person, code in zip(people, sorted(codes), strict=True)
    )
    Card.objects.filter(pk__in=Card.objects.filter(campaign=campaign)[:100]).update(
        revoked_at=timezone.now()
    )

    registry = registry_for(campaign=campaign)
    size = len(registry_json(registry))

    print(f"registry.json for 10,000 cards: {size:,} bytes")
    assert len(registry["cards"]) == 10_000
    assert size < 1_000_000


def test_registry_for_a_job_covers_every_card_of_its_campaign():
    program = make_program()
    campaign = make_campaign(program=program)
    earlier = make_card(campaign=campaign)
    job = make_job(campaign=campaign)
    (latest,) = cards_assign(job=job, beneficiaries=[make_beneficiary(campaign=campaign)])

    registry = registry_for(job=job)

    assert registry["job"] == job.pk
    assert set(registry["cards"]) == {code_hash(earlier.code), code_hash(latest.code)}


def test_registry_api_answers_a_fresh_registry_for_the_callers_campaign_only():
    program, campaign, card = _program_with_card()
    client = api_client(make_api_key(program=program, role=Role.VIEWER))
    first = client.get(f"/api/campaigns/{campaign.pk}/registry.json").json()
    card_revoke(card=card, reason="stolen")

    response = client.get(f"/api/campaigns/{campaign.pk}/registry.json")

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert first["cards"][code_hash(card.code)]["s"] == "valid"
    assert response.json()["cards"][code_hash(card.code)]["s"] == "revoked"
    outsider = api_client(make_api_key(program=make_program()))
    assert outsider.get(f"/api/campaigns/{campaign.pk}/registry.json").status_code == 404
