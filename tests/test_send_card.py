"""The DHIS2 app's endpoints: POST /api/dhis2/send-card (one card now, over WhatsApp, SMS or
Google Wallet) and the Google Wallet links by enrollment, single and bulk."""

from datetime import date

import jwt
import pytest
from django.utils import timezone

from campaigns.models import CampaignType, Role
from distribution.models import Message, WalletLink
from distribution.providers.google_wallet.adapter import SAVE_URL
from tests.factories import (
    api_client,
    make_api_key,
    make_campaign,
    make_integration,
    make_issued_cards,
    make_program,
)

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.stubs.fixtures"]


@pytest.fixture
def client(program):
    return api_client(make_api_key(program=program, role=Role.OPERATOR))


@pytest.fixture
def card(program):
    card, = make_issued_cards(campaign=make_campaign(program=program), count=1,
                              first_name="Binta")
    return card


@pytest.fixture
def sms(program, orange_stub):
    make_integration(program=program, channel="sms", config=orange_stub.config())
    return orange_stub


@pytest.fixture
def wallet(program, google_stub):
    make_integration(program=program, channel="wallet", config=google_stub.config())
    return google_stub


def send(client, headers=None, **body):
    return client.post("/api/dhis2/send-card", body, format="json", **(headers or {}))


def test_a_card_goes_out_by_sms_for_an_enrollment(client, card, sms):
    response = send(client, enrollment_id=card.beneficiary.external_id, channel="sms")
    assert response.status_code == 201
    body = response.json()
    assert body["result"]["ok"] and body["result"]["provider_message_id"] == sms.request_ids[0]
    assert body["message"]["status"] == "sent" and body["message"]["card_code"] == card.code
    assert body["message"]["recipient"] == "+22177***" + card.beneficiary.phone[-4:]
    text = sms.sent[0]["outboundSMSTextMessage"]["message"]
    assert "Binta" in text and card.code in text
    assert "Binta" not in response.content.decode()


def test_a_card_goes_out_on_whatsapp_with_its_image(client, card, program, whatsapp_stub):
    make_integration(program=program, channel="whatsapp", config=whatsapp_stub.config())
    response = send(client, beneficiary_id=card.beneficiary_id, channel="whatsapp")
    assert response.status_code == 201
    assert len(whatsapp_stub.received("POST", "/media")) == 1
    assert whatsapp_stub.sent[0]["type"] == "image"


def test_a_card_can_be_named_by_its_code(client, card, sms):
    response = send(client, card_code=card.code.lower(), channel="sms")
    assert response.status_code == 201 and response.json()["message"]["card_code"] == card.code


def test_an_unknown_enrollment_is_404_with_a_clear_message(client, sms):
    response = send(client, enrollment_id="Xy12AbC9zQw", channel="sms")
    assert response.status_code == 404
    assert "Xy12AbC9zQw" in response.json()["error"]


def test_exactly_one_way_of_naming_the_card_is_needed(client, card, sms):
    assert send(client, channel="sms").status_code == 400
    both = send(client, enrollment_id=card.beneficiary.external_id, card_code=card.code,
                channel="sms")
    assert both.status_code == 400 and "enrollment_id" in both.json()["fields"]


def test_another_number_can_be_given_and_a_bad_one_is_refused(client, card, sms):
    response = send(client, card_code=card.code, channel="sms", phone_number="76 543 21 09")
    assert response.status_code == 201
    assert sms.sent[0]["address"] == "tel:+221765432109"
    bad = send(client, card_code=card.code, channel="sms", phone_number="07x")
    assert bad.status_code == 400 and "phone_number" in bad.json()["fields"]


def test_a_custom_message_uses_the_same_variables(client, card, sms):
    ok = send(client, card_code=card.code, channel="sms", message="Votre carte: {card_code}")
    assert ok.status_code == 201
    assert sms.sent[0]["outboundSMSTextMessage"]["message"] == f"Votre carte: {card.code}"
    bad = send(client, card_code=card.code, channel="sms", message="Bonjour {prenom}")
    assert bad.status_code == 400 and "{prenom}" in bad.json()["fields"]["message"][0]


def test_opted_out_or_unconsented_people_are_not_sent(client, card, sms):
    card.beneficiary.consent_sms = False
    card.beneficiary.save()
    response = send(client, card_code=card.code, channel="sms")
    assert response.status_code == 409 and "consent" in response.json()["error"]
    card.beneficiary.consent_sms, card.beneficiary.opted_out_at = True, timezone.now()
    card.beneficiary.save()
    assert send(client, card_code=card.code, channel="sms").status_code == 409
    assert sms.sent == []


def test_a_channel_not_set_up_is_a_conflict(client, card):
    response = send(client, card_code=card.code, channel="sms")
    assert response.status_code == 409 and "sms" in response.json()["error"]


def test_a_provider_refusal_is_502_with_the_logged_attempt(client, card, sms):
    sms.fail_next("SVC0004", variables=["address"])
    response = send(client, card_code=card.code, channel="sms")
    assert response.status_code == 502
    body = response.json()
    assert (body["result"]["ok"], body["result"]["kind"]) == (False, "permanent")
    assert body["message"]["status"] == "failed" and body["message"]["error_code"] == "SVC0004"


def test_the_same_idempotency_key_never_sends_twice(client, card, sms):
    headers = {"HTTP_IDEMPOTENCY_KEY": "dhis2-event-42"}
    first = send(client, headers, card_code=card.code, channel="sms")
    again = send(client, headers, card_code=card.code, channel="sms")
    assert first.status_code == again.status_code == 201
    assert first.json()["message"]["id"] == again.json()["message"]["id"]
    assert len(sms.sent) == 1


def test_each_send_of_a_card_is_its_own_attempt(client, card, sms):
    send(client, card_code=card.code, channel="sms")
    send(client, card_code=card.code, channel="sms")
    keys = list(Message.objects.order_by("attempt").values_list("attempt", "idempotency_key"))
    assert keys == [(1, f"direct-c{card.pk}-sms-a1"), (2, f"direct-c{card.pk}-sms-a2")]


def test_the_wallet_channel_answers_with_the_save_link(client, card, wallet):
    response = send(client, card_code=card.code, channel="wallet")
    assert response.status_code == 201
    assert response.json()["result"]["link"].startswith(SAVE_URL)


def test_a_wallet_send_keeps_the_save_link_on_the_card(client, card, wallet):
    link = send(client, card_code=card.code, channel="wallet").json()["result"]["link"]
    kept = WalletLink.objects.get(card=card)
    assert (kept.save_url, kept.object_id) == (link, f"{wallet.issuer_id}.{card.code}")


def test_another_programs_card_is_404(client, sms):
    theirs, = make_issued_cards(campaign=make_campaign(program=make_program()), count=1)
    assert send(client, enrollment_id=theirs.beneficiary.external_id,
                channel="sms").status_code == 404
    assert send(client, card_code=theirs.code, channel="sms").status_code == 404
    assert send(client, beneficiary_id=theirs.beneficiary_id, channel="sms").status_code == 404


def test_an_hiv_card_needs_the_sensitive_grant(program, sms):
    card, = make_issued_cards(
        campaign=make_campaign(program=program, campaign_type=CampaignType.HIV), count=1)
    plain = api_client(make_api_key(program=program))
    assert send(plain, card_code=card.code, channel="sms").status_code == 403
    granted = api_client(make_api_key(program=program, can_view_sensitive=True))
    assert send(granted, card_code=card.code, channel="sms").status_code == 201


def test_a_wallet_link_for_an_enrollment(client, card, wallet):
    card.expires_on = date(2027, 5, 16)
    card.save()
    response = client.get(f"/api/dhis2/google-wallet/{card.beneficiary.external_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["enrollment_id"] == card.beneficiary.external_id
    assert body["valid_until"] == "2027-05-16"
    assert body["wallet_url"] == SAVE_URL + body["jwt_token"]
    claims = jwt.decode(body["jwt_token"], wallet.public_key_pem, algorithms=["RS256"],
                        audience="google")
    assert claims["typ"] == "savetowallet"


def test_a_wallet_link_for_an_enrollment_is_kept_for_the_operators_csv(client, card, wallet):
    body = client.get(f"/api/dhis2/google-wallet/{card.beneficiary.external_id}").json()
    csv_text = b"".join(client.get(
        f"/api/campaigns/{card.campaign_id}/wallet-links.csv").streaming_content).decode()
    assert f'"{card.code}","{card.beneficiary.external_id}",' in csv_text
    assert body["wallet_url"] in csv_text


def test_bulk_wallet_links_are_kept_on_their_cards(client, program, wallet):
    campaign = make_campaign(program=program)
    cards = make_issued_cards(campaign=campaign, count=2)
    ids = [c.beneficiary.external_id for c in cards]
    body = client.post("/api/dhis2/google-wallet/bulk", {"enrollment_ids": ids},
                       format="json").json()
    kept = dict(WalletLink.objects.filter(card__in=cards).values_list("card__code", "save_url"))
    assert kept == {link["card_code"]: link["wallet_url"] for link in body["wallet_links"]}


def test_a_wallet_link_for_an_unknown_enrollment_is_404(client, wallet):
    response = client.get("/api/dhis2/google-wallet/Xy12AbC9zQw")
    assert response.status_code == 404 and "Xy12AbC9zQw" in response.json()["error"]


def test_bulk_wallet_links_one_per_enrollment(client, program, wallet):
    cards = make_issued_cards(campaign=make_campaign(program=program), count=3)
    ids = [c.beneficiary.external_id for c in cards] + ["Unknown0001"]
    response = client.post("/api/dhis2/google-wallet/bulk",
                           {"enrollment_ids": ids, "programme_uid": ""}, format="json",
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.json()
    assert body["batch_id"] and body["total"] == 3
    assert [link["enrollment_id"] for link in body["wallet_links"]] == ids[:3]
    assert body["errors"] == [{"enrollment_id": "Unknown0001",
                               "error": "No beneficiary with enrollment id Unknown0001 in "
                                        "this program."}]


def test_more_than_100_enrollments_is_400(client, wallet):
    response = client.post("/api/dhis2/google-wallet/bulk",
                           {"enrollment_ids": [f"enr{i}" for i in range(101)]}, format="json")
    assert response.status_code == 400
    assert "enrollment_ids" in response.json()["fields"]


def test_a_programme_uid_picks_the_campaign_linked_to_that_dhis2_program(client, program,
                                                                          wallet):
    from tests.factories import make_dhis2_link

    linked, other = make_campaign(program=program), make_campaign(program=program)
    make_dhis2_link(campaign=linked, program_uid="IpHINAT79UW", org_unit_uid="DiszpKrYNg8",
                    mapping={})
    ours, = make_issued_cards(campaign=linked, count=1)
    theirs, = make_issued_cards(campaign=other, count=1)
    theirs.beneficiary.external_id = ours.beneficiary.external_id
    theirs.beneficiary.save()
    response = client.post("/api/dhis2/google-wallet/bulk", {
        "enrollment_ids": [ours.beneficiary.external_id], "programme_uid": "IpHINAT79UW"},
        format="json")
    assert [link["card_code"] for link in response.json()["wallet_links"]] == [ours.code]
    assert client.post("/api/dhis2/google-wallet/bulk", {
        "enrollment_ids": [ours.beneficiary.external_id], "programme_uid": "lxAQ7Zs9VYR"},
        format="json").json()["total"] == 0
