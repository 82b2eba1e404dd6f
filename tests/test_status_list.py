"""Signed status lists (verification/status_list.py): what they hold, how they are signed and
numbered, and the public endpoint that serves the newest one to portals that are online."""

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.test import Client
from django.utils import timezone

from campaigns.models import CampaignType
from cards.models import Card
from cards.signing_keys import (
    program_public_keys,
    signing_key_for,
    signing_key_withdraw,
)
from cards.tokens import SIGNING_TAGS
from tests.factories import make_beneficiary, make_campaign, make_card, make_program
from verification.status_list import (
    RECORD,
    SIGNATURE_SIZE,
    InvalidStatusList,
    status_list_decode,
    status_list_issue,
    status_of,
)

pytestmark = pytest.mark.django_db


def _campaign(**fields):
    fields.setdefault("program", make_program())
    return make_campaign(**fields)


def _decode(blob, campaign):
    return status_list_decode(blob, program_public_keys(program=campaign.program))


def test_every_card_is_one_16_byte_record_with_its_status_and_dates():
    campaign = _campaign()
    kept, revoked = make_card(campaign=campaign), make_card(campaign=campaign)
    Card.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now(), revoked_reason="lost")

    header, records = _decode(status_list_issue(campaign=campaign), campaign)

    assert len(records) == 2 * RECORD.size == 32 and header["count"] == 2
    assert status_of(records, kept.code) == {
        "s": "valid", "i": kept.issued_on.isoformat(), "e": None, "r": None}
    assert status_of(records, revoked.code)["s"] == "revoked"
    assert status_of(records, "DKR-NOPE-ZZZZZZZZ") is None


def test_the_list_is_signed_by_the_active_key_under_its_own_tag():
    campaign = _campaign()
    make_card(campaign=campaign)
    blob = status_list_issue(campaign=campaign)
    key = signing_key_for(program=campaign.program)
    raw = program_public_keys(program=campaign.program)[key.kid]
    public = Ed25519PublicKey.from_public_bytes(raw)
    body, signature = blob[:-SIGNATURE_SIZE], blob[-SIGNATURE_SIZE:]

    header, _records = _decode(blob, campaign)

    assert header["kid"] == key.kid
    with pytest.raises(InvalidSignature):
        public.verify(signature, SIGNING_TAGS[2] + body)  # never passes for a card's signature


def test_a_changed_byte_fails_the_signature():
    campaign = _campaign()
    make_card(campaign=campaign)
    blob = bytearray(status_list_issue(campaign=campaign))
    blob[-SIGNATURE_SIZE - 1] ^= 1

    with pytest.raises(InvalidStatusList):
        _decode(bytes(blob), campaign)


def test_each_list_takes_the_next_sequence_number_of_its_campaign():
    campaign, other = _campaign(), _campaign()

    numbers = [_decode(status_list_issue(campaign=campaign), campaign)[0]["sequence"]
               for _ in range(3)]
    others = _decode(status_list_issue(campaign=other), other)[0]["sequence"]

    assert numbers == [1, 2, 3] and others == 1


def test_the_header_carries_time_age_limit_and_keys_and_no_person():
    campaign = _campaign()
    person = make_beneficiary(campaign=campaign, first_name="Ndeye", last_name="Fall")
    card = make_card(campaign=campaign, beneficiary=person)

    blob = status_list_issue(campaign=campaign)

    header, _records = _decode(blob, campaign)
    assert header["max_age_days"] == 30
    assert header["issued_at"].endswith("Z") and "T" in header["status_at"]
    assert [k["kid"] for k in header["keys"]["keys"]] == [signing_key_for(
        program=campaign.program).kid]
    for personal in (b"Ndeye", b"Fall", card.code.encode()):
        assert personal not in blob


def test_a_withdrawn_keys_cards_are_marked_withdrawn():
    campaign = _campaign()
    card = make_card(campaign=campaign)
    signing_key_withdraw(key=signing_key_for(program=campaign.program), reason="leak")

    header, records = _decode(status_list_issue(campaign=campaign), campaign)

    assert status_of(records, card.code)["s"] == "withdrawn"
    assert "withdrawn" in {k["status"] for k in header["keys"]["keys"]}


# The public endpoint ---------------------------------------------------------------------


def test_the_endpoint_serves_the_newest_list_cacheable_with_its_etag():
    campaign = _campaign(prefix="DKR-PUB")
    make_card(campaign=campaign)

    response = Client().get("/v/status/DKR-PUB.bin")

    header, _records = _decode(response.content, campaign)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["ETag"] == f'"DKR-PUB-{header["sequence"]}"'
    assert response["Cache-Control"] == "public, max-age=300"
    assert response["Access-Control-Allow-Origin"] == "*"


def test_callers_within_the_refresh_time_share_one_list():
    campaign = _campaign(prefix="DKR-SHR")
    make_card(campaign=campaign)

    first, second = Client().get("/v/status/DKR-SHR.bin"), Client().get("/v/status/DKR-SHR.bin")

    assert first.content == second.content


def test_a_caller_holding_the_newest_list_gets_304():
    campaign = _campaign(prefix="DKR-ETG")
    make_card(campaign=campaign)
    etag = Client().get("/v/status/DKR-ETG.bin")["ETag"]

    response = Client().get("/v/status/DKR-ETG.bin", HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304 and response.content == b""


def test_an_unknown_or_deleted_campaign_is_404():
    campaign = _campaign(prefix="DKR-DEL")
    campaign.deleted_at = timezone.now()
    campaign.save(update_fields=["deleted_at"])

    assert Client().get("/v/status/DKR-DEL.bin").status_code == 404
    assert Client().get("/v/status/NOPE.bin").status_code == 404


def test_a_sensitive_campaigns_list_names_it_with_the_neutral_label():
    campaign = _campaign(prefix="DKR-SNS", campaign_type=CampaignType.HIV,
                         name="Suivi VIH Pikine", language="fr")
    make_card(campaign=campaign)

    blob = Client().get("/v/status/DKR-SNS.bin").content

    header, _records = _decode(blob, campaign)
    assert header["label"] == "Programme de santé"
    # The header only: records and signature are random bytes that may spell anything.
    assert "VIH" not in str(header) and "hiv" not in str(header).lower()
