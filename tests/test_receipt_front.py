"""Delivery receipts through the ASGI server as deployed (uvicorn): the receipt front
(distribution/receipt_front.py) applies Orange's receipts and Meta's statuses in batches
without Django's request stack, and answers as the views do; anything it does not handle
itself reaches Django unchanged."""

import hashlib
import hmac
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from campaigns.models import Beneficiary
from distribution.delivery_status import apply_parked
from distribution.models import Message, ParkedReceipt
from tests.factories import (
    make_campaign,
    make_integration,
    make_issued_cards,
    make_message,
    make_program,
)
from tests.processes import asgi_server
from tests.webhook_helpers import APP_SECRET, PHONE_NUMBER_ID, SMS, WHATSAPP
from tests.webhook_helpers import orange_receipt as receipt

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture(scope="module")
def server(django_db_setup):  # the test database made first: the server's DATABASE_URL
    with asgi_server() as host:
        yield host


@pytest.fixture
def cards():
    program = make_program()
    return make_issued_cards(campaign=make_campaign(program=program), count=50, with_png=False)


@pytest.fixture
def webhook(server, cards):
    sms = make_integration(program=cards[0].campaign.program, channel="sms", config=SMS)
    return f"http://{server}/webhooks/orange/{sms.webhook_token}"


def post(url, payload, **headers):
    return requests.post(url, data=json.dumps(payload), timeout=30,
                         headers={"Content-Type": "application/json", **headers})


def test_a_receipt_is_applied_and_answered_with_the_views_counts(cards, webhook):
    message = make_message(card=cards[0], channel="sms", provider_message_id="a1b2c3d4e5f6")
    response = post(webhook, receipt("DeliveredToTerminal", "a1b2c3d4e5f6"))
    assert response.status_code == 200
    assert response.json() == {"updated": 1, "unchanged": 0, "parked": 0, "unknown": 0}
    message.refresh_from_db()
    assert message.status == "delivered" and message.delivered_at is not None


def test_receipts_arriving_together_are_each_applied_once_and_never_move_back(cards, webhook):
    messages = [make_message(card=card, channel="sms", provider_message_id=f"sms{i:04d}")
                for i, card in enumerate(cards)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda m: post(webhook, receipt(
            "DeliveredToTerminal", m.provider_message_id)).json(), messages))
        # Late "still on the network" receipts for the same SMS change nothing.
        late = list(pool.map(lambda m: post(webhook, receipt(
            "DeliveredToNetwork", m.provider_message_id)).json(), messages))
    assert all(answer["updated"] == 1 for answer in answers)
    assert all(answer["unchanged"] == 1 for answer in late)
    assert Message.objects.filter(channel="sms", status="delivered").count() == len(cards)


def test_a_receipt_before_its_id_is_written_is_parked_then_applied(cards, webhook):
    response = post(webhook, receipt("DeliveredToTerminal", "not-written-yet"))
    assert response.json() == {"updated": 0, "unchanged": 0, "parked": 1, "unknown": 0}
    assert ParkedReceipt.objects.get().provider_message_id == "not-written-yet"
    message = make_message(card=cards[0], channel="sms", provider_message_id="not-written-yet")
    assert apply_parked(channel="sms", provider_message_ids=["not-written-yet"]) == 1
    message.refresh_from_db()
    assert message.status == "delivered"
    assert not ParkedReceipt.objects.exists()


def test_an_unknown_token_is_djangos_404_and_applies_nothing(cards, webhook, server):
    message = make_message(card=cards[0], channel="sms", provider_message_id="a1b2c3d4e5f6")
    response = post(f"http://{server}/webhooks/orange/not-the-secret-at-all",
                    receipt("DeliveredToTerminal", "a1b2c3d4e5f6"))
    assert response.status_code == 404
    assert Message.objects.get(pk=message.pk).status == "sent"


def test_a_host_django_refuses_is_refused_and_applies_nothing(cards, webhook):
    message = make_message(card=cards[0], channel="sms", provider_message_id="a1b2c3d4e5f6")
    response = post(webhook, receipt("DeliveredToTerminal", "a1b2c3d4e5f6"),
                    Host="attacker.example")
    assert response.status_code == 400
    assert Message.objects.get(pk=message.pk).status == "sent"


def test_a_stop_reply_on_the_same_url_still_opts_the_sender_out(cards, webhook):
    person = cards[0].beneficiary
    response = post(webhook, {"inboundSMSMessageNotification": {"inboundSMSMessage": {
        "senderAddress": f"tel:{person.phone}", "message": "STOP", "messageId": "in-1",
        "dateTime": "2026-06-11T09:00:00Z"}}})
    assert response.json() == {"opted_out": 1, "ignored": 0}
    assert Beneficiary.objects.get(pk=person.pk).opted_out_at is not None


def test_a_body_that_is_not_a_receipt_gets_djangos_400(webhook):
    assert post(webhook, {"something": "else"}).status_code == 400
    response = requests.post(webhook, data=b"{not json", timeout=30,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 400


# WhatsApp ------------------------------------------------------------------------------------


@pytest.fixture
def whatsapp(server, cards):
    make_integration(program=cards[0].campaign.program, channel="whatsapp", config=WHATSAPP)
    return f"http://{server}/webhooks/whatsapp"


def notification(statuses=(), messages=()):
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "221338000000",
                          "phone_number_id": PHONE_NUMBER_ID}}
    if statuses:
        value["statuses"] = [{"id": message_id, "status": name, "timestamp": "1767000000",
                              "recipient_id": "221771234567"} for message_id, name in statuses]
    if messages:
        value["messages"] = list(messages)
    return {"object": "whatsapp_business_account", "entry": [{
        "id": "102290129340398", "changes": [{"field": "messages", "value": value}]}]}


def post_signed(url, payload, secret=APP_SECRET):
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return requests.post(url, data=body, timeout=30, headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": signature})


def test_signed_statuses_are_applied_and_counted_as_the_view_does(cards, whatsapp):
    behind = make_message(card=cards[0])
    ahead = make_message(card=cards[1], status="read")
    response = post_signed(whatsapp, notification(statuses=[
        (behind.provider_message_id, "read"), (ahead.provider_message_id, "delivered"),
        ("wamid.NOT-WRITTEN-YET", "delivered"), (behind.provider_message_id, "deleted")]))
    assert response.status_code == 200
    assert response.json() == {"updated": 1, "unchanged": 1, "parked": 1, "unknown": 1}
    assert Message.objects.get(pk=behind.pk).status == "read"
    assert Message.objects.get(pk=ahead.pk).status == "read"
    assert ParkedReceipt.objects.get().provider_message_id == "wamid.NOT-WRITTEN-YET"


def test_statuses_signed_with_another_secret_are_refused_and_change_nothing(cards, whatsapp):
    message = make_message(card=cards[0])
    response = post_signed(whatsapp, notification(statuses=[
        (message.provider_message_id, "read")]), secret="not-our-app-secret")
    assert response.status_code == 403
    assert Message.objects.get(pk=message.pk).status == "sent"


def test_a_whatsapp_stop_among_statuses_still_opts_the_sender_out(cards, whatsapp):
    person, message = cards[0].beneficiary, make_message(card=cards[1])
    response = post_signed(whatsapp, notification(
        statuses=[(message.provider_message_id, "delivered")],
        messages=[{"from": person.phone.lstrip("+"), "id": "wamid.IN", "type": "text",
                   "timestamp": "1767000000", "text": {"body": "STOP"}}]))
    assert response.json()["opted_out"] == 1
    assert Beneficiary.objects.get(pk=person.pk).opted_out_at is not None
    assert Message.objects.get(pk=message.pk).status == "delivered"
