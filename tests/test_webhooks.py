"""Provider callbacks: Meta's verification and signed status notifications, Orange delivery
receipts. Statuses only move forward; duplicates and unknown ids change nothing."""

import hashlib
import hmac
import json
import logging

import pytest
from django.test import Client

from distribution.models import Message, ParkedReceipt
from tests.factories import (
    make_campaign,
    make_integration,
    make_issued_cards,
    make_message,
    make_program,
)
from tests.webhook_helpers import (
    APP_SECRET,
    PHONE_NUMBER_ID,
    SMS,
    VERIFY_TOKEN,
    WHATSAPP,
    orange_receipt,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def card():
    program = make_program()
    make_integration(program=program, channel="whatsapp", config=WHATSAPP)
    card, = make_issued_cards(campaign=make_campaign(program=program), count=1, with_png=False)
    return card


def notification(*statuses, phone_number_id=PHONE_NUMBER_ID):
    return {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [
        {"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "221338000000",
                         "phone_number_id": phone_number_id},
            "statuses": list(statuses),
        }}]}]}


def status(message_id, name, timestamp="1767000000", **extra):
    return {"id": message_id, "status": name, "timestamp": timestamp,
            "recipient_id": "221771234567", **extra}


def post(payload, secret=APP_SECRET, signature=None):
    body = json.dumps(payload).encode()
    if signature is None:
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return Client().post("/webhooks/whatsapp", body, content_type="application/json",
                         HTTP_X_HUB_SIGNATURE_256=signature)


def test_meta_verification_answers_the_challenge_for_our_verify_token(card):
    response = Client().get("/webhooks/whatsapp", {
        "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"})
    assert response.status_code == 200
    assert response.content == b"1158201444"


def test_meta_verification_with_another_token_is_refused(card):
    response = Client().get("/webhooks/whatsapp", {
        "hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"})
    assert response.status_code == 403
    assert b"1158201444" not in response.content


def test_a_signed_delivered_status_moves_the_message_forward(card):
    message = make_message(card=card)
    response = post(notification(status(message.provider_message_id, "delivered")))
    assert response.status_code == 200
    message.refresh_from_db()
    assert message.status == "delivered"
    assert message.delivered_at.timestamp() == 1767000000


def test_a_bad_signature_is_refused_and_changes_nothing(card):
    message = make_message(card=card)
    response = post(notification(status(message.provider_message_id, "read")),
                    secret="not-the-app-secret")
    assert response.status_code == 403
    message.refresh_from_db()
    assert (message.status, message.read_at) == ("sent", None)


def test_a_missing_signature_is_refused(card):
    message = make_message(card=card)
    assert post(notification(status(message.provider_message_id, "read")),
                signature="").status_code == 403
    assert Message.objects.get(pk=message.pk).status == "sent"


def test_statuses_arriving_out_of_order_only_move_forward(card):
    message = make_message(card=card)
    post(notification(status(message.provider_message_id, "read", "1767000300")))
    post(notification(status(message.provider_message_id, "delivered", "1767000200")))
    post(notification(status(message.provider_message_id, "sent", "1767000100")))
    message.refresh_from_db()
    assert message.status == "read"
    assert message.read_at.timestamp() == 1767000300


def test_delivered_before_sent_fills_in_when_it_was_sent(card):
    message = make_message(card=card, status="sending", provider_message_id="wamid.EARLY")
    post(notification(status("wamid.EARLY", "delivered", "1767000200")))
    message.refresh_from_db()
    assert message.status == "delivered"
    assert message.sent_at.timestamp() == 1767000200


def test_a_duplicate_callback_changes_nothing_the_second_time(card):
    message = make_message(card=card)
    payload = notification(status(message.provider_message_id, "delivered", "1767000200"))
    assert post(payload).json() == {"updated": 1, "unchanged": 0, "parked": 0, "unknown": 0}
    assert post(payload).json() == {"updated": 0, "unchanged": 1, "parked": 0, "unknown": 0}
    message.refresh_from_db()
    assert message.status == "delivered" and message.delivered_at.timestamp() == 1767000200


def test_failed_is_terminal_and_keeps_the_providers_reason(card):
    message = make_message(card=card)
    failed = status(message.provider_message_id, "failed", errors=[{
        "code": 131026, "title": "Message undeliverable",
        "error_data": {"details": "Receiver +221771234567 is not on WhatsApp"}}])
    post(notification(failed))
    post(notification(status(message.provider_message_id, "delivered")))
    message.refresh_from_db()
    assert (message.status, message.error_code) == ("failed", "131026")
    assert "not on WhatsApp" in message.error_detail
    assert "771234567" not in message.error_detail


def test_an_unknown_message_id_is_logged_without_personal_data_and_parked(card, caplog):
    caplog.set_level(logging.INFO, logger="distribution")
    response = post(notification(status("wamid.NEVER-SEEN", "delivered")))
    assert response.status_code == 200
    assert response.json()["parked"] == 1
    assert "wamid.NEVER-SEEN" in caplog.text
    assert "221771234567" not in caplog.text


def test_a_status_naming_another_programs_message_changes_nothing(card):
    other_card, = make_issued_cards(campaign=make_campaign(program=make_program()), count=1,
                                    with_png=False)
    theirs = make_message(card=other_card)
    response = post(notification(status(theirs.provider_message_id, "read")))
    assert response.json()["parked"] == 1
    assert Message.objects.get(pk=theirs.pk).status == "sent"


def test_a_payload_signed_with_another_programs_secret_is_refused(card):
    other = make_program()
    make_integration(program=other, channel="whatsapp",
                     config={**WHATSAPP, "phone_number_id": "109999999999",
                             "app_secret": "their-app-secret-0123"})
    message = make_message(card=card)
    response = post(notification(status(message.provider_message_id, "read")),
                    secret="their-app-secret-0123")
    assert response.status_code == 403
    assert Message.objects.get(pk=message.pk).status == "sent"


def test_a_notifications_statuses_cost_one_statement(card, django_assert_num_queries):
    messages = [make_message(card=card) for _ in range(3)]
    payload = notification(*(status(m.provider_message_id, "delivered") for m in messages))
    # One lookup of the integration, then one conditional UPDATE for all the statuses.
    with django_assert_num_queries(1 + 1):
        assert post(payload).json()["updated"] == 3


def test_one_notifications_statuses_for_the_same_message_apply_in_their_order(card):
    message = make_message(card=card)
    post(notification(status(message.provider_message_id, "delivered", "1767000100"),
                      status(message.provider_message_id, "read", "1767000200"),
                      status(message.provider_message_id, "delivered", "1767000300")))
    message.refresh_from_db()
    assert (message.status, message.delivered_at.timestamp(),
            message.read_at.timestamp()) == ("read", 1767000100, 1767000200)


def test_one_notification_counts_each_status_as_updated_unchanged_or_parked(card):
    behind, ahead = make_message(card=card), make_message(card=card, status="read")
    answer = post(notification(status(behind.provider_message_id, "delivered"),
                               status(ahead.provider_message_id, "delivered"),
                               status("wamid.NOT-WRITTEN-YET", "delivered"),
                               status(behind.provider_message_id, "deleted"))).json()
    assert answer == {"updated": 1, "unchanged": 1, "parked": 1, "unknown": 1}
    assert ParkedReceipt.objects.get().provider_message_id == "wamid.NOT-WRITTEN-YET"


def test_a_failed_status_in_a_notification_keeps_metas_error(card):
    message = make_message(card=card)
    post(notification(status(message.provider_message_id, "failed", errors=[{
        "code": 131026, "title": "Message undeliverable",
        "error_data": {"details": "Receiver is incapable of receiving this message"}}])))
    message.refresh_from_db()
    assert (message.status, message.error_code, message.error_detail) == (
        "failed", "131026", "Receiver is incapable of receiving this message")


@pytest.fixture
def sms_integration(card):
    return make_integration(program=card.campaign.program, channel="sms", config=SMS)


def test_an_orange_receipt_on_the_integrations_url_marks_the_sms_delivered(card, sms_integration):
    message = make_message(card=card, channel="sms", provider_message_id="a1b2c3d4e5f6")
    response = Client().post(f"/webhooks/orange/{sms_integration.webhook_token}",
                             orange_receipt("DeliveredToTerminal", "a1b2c3d4e5f6"),
                             content_type="application/json")
    assert response.status_code == 200
    assert Message.objects.get(pk=message.pk).status == "delivered"


def test_an_orange_receipt_naming_the_resource_url_is_matched_too(card, sms_integration):
    message = make_message(card=card, channel="sms", provider_message_id="f00dcafe")
    receipt = orange_receipt("DeliveryImpossible", "")
    receipt["deliveryInfoNotification"]["resourceURL"] = (
        "https://api.orange.com/smsmessaging/v1/outbound/tel%3A%2B2210000/requests/f00dcafe")
    Client().post(f"/webhooks/orange/{sms_integration.webhook_token}", receipt,
                  content_type="application/json")
    message.refresh_from_db()
    assert (message.status, message.error_code) == ("failed", "DeliveryImpossible")


def test_an_orange_receipt_with_an_unknown_secret_is_404(card, sms_integration):
    message = make_message(card=card, channel="sms", provider_message_id="a1b2c3d4e5f6")
    response = Client().post("/webhooks/orange/not-the-secret-at-all",
                             orange_receipt("DeliveredToTerminal", "a1b2c3d4e5f6"),
                             content_type="application/json")
    assert response.status_code == 404
    assert Message.objects.get(pk=message.pk).status == "sent"


def test_each_integration_has_its_own_webhook_secret(card, sms_integration):
    other = make_integration(program=make_program(), channel="sms", config=SMS)
    assert sms_integration.webhook_token != other.webhook_token
    assert len(sms_integration.webhook_token) >= 32


# Bodies over 1 MB ----------------------------------------------------------------------------


def padded(payload, size):
    """`payload` as JSON followed by spaces up to `size` bytes: still valid JSON."""
    body = json.dumps(payload).encode()
    return body + b" " * (size - len(body))


def test_a_signed_2_mb_whatsapp_notification_is_413_and_applies_nothing(card):
    message = make_message(card=card)
    body = padded(notification(status(message.provider_message_id, "read")), 2 * 1024 * 1024)
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    response = Client().post("/webhooks/whatsapp", body, content_type="application/json",
                             HTTP_X_HUB_SIGNATURE_256=signature)
    assert response.status_code == 413
    assert Message.objects.get(pk=message.pk).status == "sent"


def test_a_2_mb_orange_receipt_is_413_and_applies_nothing(card, sms_integration):
    message = make_message(card=card, channel="sms", provider_message_id="a1b2c3d4e5f6")
    body = padded(orange_receipt("DeliveredToTerminal", "a1b2c3d4e5f6"), 2 * 1024 * 1024)
    response = Client().post(f"/webhooks/orange/{sms_integration.webhook_token}", body,
                             content_type="application/json")
    assert response.status_code == 413
    assert Message.objects.get(pk=message.pk).status == "sent"
