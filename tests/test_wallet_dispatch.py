"""A dispatch's Wallet step end to end: the real RQ worker (burst mode), the real adapters and
the Google, Orange and WhatsApp stubs on real sockets. The card's Wallet link reaches the
person by SMS or WhatsApp; they count as reached only when the carrier accepted it."""

import re
from datetime import time

import jwt
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import Beneficiary, CampaignType, Role
from cards.studio_services import program_logo_set
from distribution.dispatch.progress import dispatch_counters
from distribution.dispatch.runs import DispatchConflict, dispatch_start
from distribution.models import Dispatch, Message, WalletLink
from distribution.providers.google_wallet.adapter import SAVE_URL
from tests.dispatch_helpers import dispatch_done, recipients, work_until
from tests.factories import (
    api_client,
    make_api_key,
    make_campaign,
    make_dispatch,
    make_integration,
    make_issued_cards,
    tiny_png,
)
from tests.webhook_helpers import orange_receipt_first
from verification.public import neutral_label

pytestmark = pytest.mark.django_db(transaction=True)
pytest_plugins = ["tests.stubs.fixtures"]

BASE_URL = "https://cartes.sante.gouv.sn"
SHORT_LINK = re.compile(re.escape(BASE_URL) + r"/w/([A-Za-z0-9_-]+)")
OPEN = {"window_start": time(0, 0), "window_end": time(0, 0), "weekdays": list(range(7)),
        "retry_delays": [0]}


@pytest.fixture(autouse=True)
def setup(settings):
    settings.DISPATCH_SEND_CONCURRENCY = 2  # the stubs' listen backlog is 5
    settings.PUBLIC_BASE_URL = BASE_URL


@pytest.fixture
def wallet(campaign, google_stub, orange_stub):
    make_integration(program=campaign.program, channel="wallet", config=google_stub.config())
    make_integration(program=campaign.program, channel="sms", config=orange_stub.config())
    return campaign


def run(campaign, **plan):
    dispatch = make_dispatch(campaign=campaign, first_channel="wallet", **{**OPEN, **plan})
    dispatch_start(dispatch=dispatch)
    work_until(dispatch_done(dispatch))
    return Dispatch.objects.get(pk=dispatch.pk)


def sms_texts(stub):
    return [sent["outboundSMSTextMessage"]["message"] for sent in stub.sent]


def pass_objects(save_url, stub):
    claims = jwt.decode(save_url.removeprefix(SAVE_URL), stub.public_key_pem,
                        algorithms=["RS256"], audience="google")
    return claims["payload"]["genericObjects"]


def test_a_wallet_step_texts_the_cards_short_link_by_sms(wallet, orange_stub, client):
    card, = make_issued_cards(campaign=wallet, count=1, with_png=False, consent_whatsapp=False)
    dispatch = run(wallet)
    text, = sms_texts(orange_stub)
    token = SHORT_LINK.search(text).group(1)
    assert WalletLink.objects.get(card=card).token == token
    assert orange_stub.sent[0]["address"] == f"tel:{card.beneficiary.phone}"
    message = Message.objects.get(dispatch=dispatch)
    assert (message.channel, message.wallet_pass, message.status) == ("sms", True, "sent")
    assert recipients(dispatch)[card.beneficiary_id].status == "succeeded"


@pytest.mark.slow
def test_the_short_link_redirects_to_a_save_link_holding_the_cards_pass(
        wallet, orange_stub, google_stub, client):
    card, = make_issued_cards(campaign=wallet, count=1, with_png=False, consent_whatsapp=False)
    run(wallet)
    short = SHORT_LINK.search(sms_texts(orange_stub)[0]).group(0)
    response = client.get(short.removeprefix(BASE_URL))
    assert response.status_code == 302
    assert response["Location"] == WalletLink.objects.get(card=card).save_url
    obj, = pass_objects(response["Location"], google_stub)
    assert obj["id"] == f"{google_stub.issuer_id}.{card.code}"
    assert obj["barcode"]["alternateText"] == card.code


def test_whatsapp_carries_the_link_when_consented_and_enabled(wallet, whatsapp_stub, orange_stub):
    make_integration(program=wallet.program, channel="whatsapp", config=whatsapp_stub.config())
    card, = make_issued_cards(campaign=wallet, count=1, with_png=False)
    dispatch = run(wallet)
    sent, = whatsapp_stub.sent
    assert sent["type"] == "text" and SHORT_LINK.search(sent["text"]["body"])
    assert orange_stub.sent == []
    message = Message.objects.get(dispatch=dispatch)
    assert (message.channel, message.wallet_pass) == ("whatsapp", True)
    assert message.provider_message_id.startswith("wamid.")
    assert recipients(dispatch)[card.beneficiary_id].status == "succeeded"


def test_sms_carries_the_link_when_the_whatsapp_integration_is_disabled(
        wallet, whatsapp_stub, orange_stub):
    make_integration(program=wallet.program, channel="whatsapp", config=whatsapp_stub.config(),
                     enabled=False)
    make_issued_cards(campaign=wallet, count=1, with_png=False)
    run(wallet)
    assert whatsapp_stub.sent == [] and len(orange_stub.sent) == 1


def test_a_carrier_refusal_is_not_a_success(wallet, orange_stub):
    card, = make_issued_cards(campaign=wallet, count=1, with_png=False, consent_whatsapp=False)
    orange_stub.fail_next("SVC0004", times=5)  # no valid address: permanent
    dispatch = run(wallet, max_attempts=3)
    recipient = recipients(dispatch)[card.beneficiary_id]
    assert recipient.status == "failed" and recipient.last_error.startswith("SVC0004")
    message = Message.objects.get(dispatch=dispatch)
    assert (message.channel, message.status, message.error_code) == ("sms", "failed", "SVC0004")
    assert dispatch_counters(dispatch)["succeeded"] == 0


def test_a_temporary_carrier_error_is_retried_then_succeeds(wallet, orange_stub):
    card, = make_issued_cards(campaign=wallet, count=1, with_png=False, consent_whatsapp=False)
    orange_stub.fail_next("SVC0001", status=500)  # a temporary error, once
    dispatch = run(wallet, max_attempts=3)
    attempts = list(Message.objects.filter(dispatch=dispatch).order_by("attempt")
                    .values_list("attempt", "channel", "status"))
    assert attempts == [(1, "sms", "failed"), (2, "sms", "sent")]
    assert recipients(dispatch)[card.beneficiary_id].status == "succeeded"
    # The same short link both times: a link already sent keeps working.
    first, second = (SHORT_LINK.search(t).group(1)
                     for t in [r.body.decode() for r in orange_stub.send_requests()])
    assert first == second


def test_people_no_carrier_can_reach_are_skipped_with_the_reason(wallet, orange_stub):
    make_issued_cards(campaign=wallet, count=1, with_png=False, consent_whatsapp=False)
    make_issued_cards(campaign=wallet, count=2, with_png=False, consent_whatsapp=False,
                      consent_sms=False)
    make_issued_cards(campaign=wallet, count=1, with_png=False, phone="")
    dispatch = run(wallet)
    counters = dispatch_counters(dispatch)
    assert (counters["succeeded"], counters["skipped"]) == (1, 3)
    assert counters["skipped_reasons"] == {"no_carrier": 2, "no_phone": 1}
    assert len(orange_stub.sent) == 1


@pytest.mark.slow
def test_the_carriers_delivery_receipt_applies_to_the_wallet_steps_message(
        wallet, orange_stub, client):
    make_issued_cards(campaign=wallet, count=1, with_png=False, consent_whatsapp=False)
    dispatch = run(wallet)
    message = Message.objects.get(dispatch=dispatch)
    integration = wallet.program.provider_integrations.get(channel="sms")
    resource = (f"{orange_stub.url}/smsmessaging/v1/outbound/tel:+221770000000/requests/"
                f"{message.provider_message_id}")
    response = client.post(f"/webhooks/orange/{integration.webhook_token}", {
        "deliveryInfoNotification": {"callbackData": "", "deliveryInfo": {
            "address": "tel:+221770000000", "deliveryStatus": "DeliveredToTerminal",
            "resourceURL": resource}}}, content_type="application/json")
    assert response.status_code == 200
    message.refresh_from_db()
    assert message.status == "delivered" and message.delivered_at is not None


def test_the_pass_shows_the_programs_logo_at_a_public_address(
        wallet, orange_stub, google_stub, client):
    program_logo_set(program=wallet.program,
                     image_file=SimpleUploadedFile("logo.png", tiny_png()))
    card, = make_issued_cards(campaign=wallet, count=1, with_png=False, consent_whatsapp=False)
    run(wallet)
    obj, = pass_objects(WalletLink.objects.get(card=card).save_url, google_stub)
    logo = obj["logo"]["sourceUri"]["uri"]
    assert logo.startswith(f"{BASE_URL}/w/logo/")
    response = client.get(logo.removeprefix(BASE_URL))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_sms_carries_the_link_when_whatsapp_cannot_reach_them(wallet, whatsapp_stub, orange_stub):
    make_integration(program=wallet.program, channel="whatsapp", config=whatsapp_stub.config())
    card, = make_issued_cards(campaign=wallet, count=1, with_png=False)
    whatsapp_stub.outside_window.add(card.beneficiary.phone.lstrip("+"))
    dispatch = run(wallet, max_attempts=1)
    # The program's card template holds no link: it is never sent for a Wallet step.
    assert whatsapp_stub.sent == []
    assert SHORT_LINK.search(sms_texts(orange_stub)[0])
    message = Message.objects.get(dispatch=dispatch, channel="sms")
    assert (message.status, message.wallet_pass) == ("sent", True)
    assert message.provider_message_id == orange_stub.request_ids[0]
    assert recipients(dispatch)[card.beneficiary_id].status == "succeeded"


def test_whatsapps_refusal_is_logged_beside_the_sms_that_carried_the_link(
        wallet, whatsapp_stub, orange_stub):
    make_integration(program=wallet.program, channel="whatsapp", config=whatsapp_stub.config())
    card, = make_issued_cards(campaign=wallet, count=1, with_png=False)
    whatsapp_stub.outside_window.add(card.beneficiary.phone.lstrip("+"))
    dispatch = run(wallet, max_attempts=1)
    log = sorted(Message.objects.filter(dispatch=dispatch).values_list(
        "channel", "attempt", "status", "error_code", "wallet_pass", "recipient"))
    masked = log[0][5]
    assert log == [("sms", 1, "sent", "", True, masked),
                   ("whatsapp", 1, "failed", "131047", True, masked)]
    assert masked and card.beneficiary.phone not in masked


def test_whatsapp_that_cannot_reach_someone_without_sms_consent_fails_them(
        wallet, whatsapp_stub, orange_stub):
    make_integration(program=wallet.program, channel="whatsapp", config=whatsapp_stub.config())
    card, = make_issued_cards(campaign=wallet, count=1, with_png=False, consent_sms=False)
    whatsapp_stub.outside_window.add(card.beneficiary.phone.lstrip("+"))
    dispatch = run(wallet, max_attempts=3)
    assert whatsapp_stub.sent == [] and orange_stub.sent == []
    message = Message.objects.get(dispatch=dispatch)
    assert (message.channel, message.status, message.error_code) == (
        "whatsapp", "failed", "131047")
    assert recipients(dispatch)[card.beneficiary_id].status == "failed"


def test_a_wallet_run_without_any_carrier_set_up_does_not_start(campaign, google_stub):
    make_integration(program=campaign.program, channel="wallet", config=google_stub.config())
    dispatch = make_dispatch(campaign=campaign, first_channel="wallet", **OPEN)
    with pytest.raises(DispatchConflict, match="WhatsApp"):
        dispatch_start(dispatch=dispatch)


def test_a_carrier_not_set_up_pauses_the_run_with_its_reason(
        campaign, google_stub, whatsapp_stub):
    make_integration(program=campaign.program, channel="wallet", config=google_stub.config())
    make_integration(program=campaign.program, channel="whatsapp", config=whatsapp_stub.config())
    # They need SMS, which is not set up: the operator must see why nobody is reached.
    make_issued_cards(campaign=campaign, count=2, with_png=False, consent_whatsapp=False)
    dispatch = make_dispatch(campaign=campaign, first_channel="wallet", **OPEN)
    dispatch_start(dispatch=dispatch)
    work_until(lambda: Dispatch.objects.get(pk=dispatch.pk).status == "paused")
    dispatch.refresh_from_db()
    assert dispatch.pause_reason.startswith("carrier_not_configured: ")
    assert dispatch_counters(dispatch)["failed"] == 0


def test_the_log_says_the_message_carried_a_wallet_link(wallet, orange_stub):
    make_issued_cards(campaign=wallet, count=1, with_png=False, consent_whatsapp=False)
    run(wallet)
    client = api_client(make_api_key(program=wallet.program, role=Role.VIEWER))
    row, = client.get("/api/distribution/logs", {"campaign": wallet.pk}).json()["data"]
    assert (row["channel"], row["wallet_pass"]) == ("sms", True)
    assert "Google Wallet" in row["channel_label"]


@pytest.mark.slow
def test_a_receipt_before_the_carriers_id_is_written_applies_to_the_wallet_message(
        wallet, orange_stub, live_server):
    make_issued_cards(campaign=wallet, count=1, with_png=False, consent_whatsapp=False)
    integration = wallet.program.provider_integrations.get(channel="sms")
    answers = []
    orange_stub.reply_next(
        orange_receipt_first(orange_stub,
                             f"{live_server.url}/webhooks/orange/{integration.webhook_token}",
                             answers),
        match=lambda r: r.method == "POST" and "/requests" in r.path)
    dispatch = run(wallet)
    assert [a["parked"] for a in answers] == [1]
    message = Message.objects.get(dispatch=dispatch)
    assert (message.channel, message.wallet_pass, message.status) == ("sms", True, "delivered")


def test_consent_withdrawn_after_the_start_fails_the_person_without_a_message(
        wallet, orange_stub):
    card, = make_issued_cards(campaign=wallet, count=1, with_png=False, consent_whatsapp=False)
    dispatch = make_dispatch(campaign=wallet, first_channel="wallet", **OPEN)
    dispatch_start(dispatch=dispatch)
    Beneficiary.objects.filter(pk=card.beneficiary_id).update(consent_sms=False)
    work_until(dispatch_done(dispatch))
    assert orange_stub.sent == []
    recipient = recipients(dispatch)[card.beneficiary_id]
    assert recipient.status == "failed" and recipient.last_error.startswith("no_carrier")


def test_a_sensitive_campaigns_wallet_text_names_only_the_neutral_programme(
        program, google_stub, orange_stub):
    campaign = make_campaign(program=program, campaign_type=CampaignType.HIV)
    make_integration(program=program, channel="wallet", config=google_stub.config())
    make_integration(program=program, channel="sms", config=orange_stub.config())
    make_issued_cards(campaign=campaign, count=1, with_png=False, consent_whatsapp=False)
    run(campaign)
    text, = sms_texts(orange_stub)
    assert neutral_label("fr") in text and program.name not in text
    assert SHORT_LINK.search(text)
