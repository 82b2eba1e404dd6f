"""Delivery receipts that arrive before the send's provider id is written: each stub posts
the receipt to our webhook over real HTTP (the live server) before it answers the send, so
the status reaches us while the Message still has no provider id. The status is parked and
applied when the id is written; statuses still only move forward."""

import hashlib
import hmac
import json
from datetime import time, timedelta

import pytest
from django.utils import timezone

from campaigns.models import Role
from distribution.delivery_status import apply_status
from distribution.dispatch.runs import dispatch_start
from distribution.models import Message, ParkedReceipt
from tests.dispatch_helpers import dispatch_done, work_until
from tests.factories import (
    api_client,
    make_api_key,
    make_campaign,
    make_dispatch,
    make_integration,
    make_issued_cards,
    make_program,
)
from tests.webhook_helpers import http_post, orange_receipt_first

pytestmark = pytest.mark.django_db(transaction=True)
pytest_plugins = ["tests.stubs.fixtures"]


@pytest.fixture(autouse=True)
def few_senders(settings):
    settings.DISPATCH_SEND_CONCURRENCY = 2


@pytest.fixture
def program():
    return make_program()


def whatsapp_receipts_first(stub, webhook_url, secret, answers, names):
    def action(request):
        reply = stub.route(request)
        wamid = reply.body["messages"][0]["id"]
        payload = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
            {"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"phone_number_id": stub.phone_number_id},
                "statuses": [{"id": wamid, "status": name, "timestamp": "1767000000",
                              "recipient_id": "221770000000"} for name in names],
            }}]}]}
        body = json.dumps(payload).encode()
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        answers.append(http_post(webhook_url, payload, {"X-Hub-Signature-256": signature}))
        return reply
    return action


def test_a_receipt_before_a_single_sends_id_is_written_ends_delivered(
        program, orange_stub, live_server):
    integration = make_integration(program=program, channel="sms", config=orange_stub.config())
    card, = make_issued_cards(campaign=make_campaign(program=program), count=1)
    answers = []
    url = f"{live_server.url}/webhooks/orange/{integration.webhook_token}"
    orange_stub.reply_next(orange_receipt_first(orange_stub, url, answers),
                           match=lambda r: r.method == "POST" and "/requests" in r.path)
    client = api_client(make_api_key(program=program, role=Role.OPERATOR))
    response = client.post("/api/dhis2/send-card", {
        "enrollment_id": card.beneficiary.external_id, "channel": "sms"}, format="json")
    assert response.status_code == 201
    assert answers == [{"updated": 0, "unchanged": 0, "parked": 1, "unknown": 0}]
    message = Message.objects.get(card=card)
    assert message.status == "delivered" and message.delivered_at is not None
    assert response.json()["message"]["status"] == "delivered"
    assert not ParkedReceipt.objects.exists()


def test_receipts_before_a_dispatch_writes_its_ids_end_read(program, whatsapp_stub, live_server):
    secret = "app-secret-" + "x" * 16
    make_integration(program=program, channel="whatsapp",
                     config=whatsapp_stub.config(app_secret=secret))
    campaign = make_campaign(program=program)
    make_issued_cards(campaign=campaign, count=3)
    answers = []
    whatsapp_stub.reply_next(
        whatsapp_receipts_first(whatsapp_stub, f"{live_server.url}/webhooks/whatsapp", secret,
                                answers, ["read", "delivered"]),
        times=3, match=lambda r: r.path.endswith("/messages"))

    dispatch = make_dispatch(campaign=campaign, first_channel="whatsapp",
                             window_start=time(0, 0), window_end=time(0, 0),
                             weekdays=list(range(7)), retry_delays=[0])
    dispatch_start(dispatch=dispatch)
    work_until(dispatch_done(dispatch))
    assert [a["parked"] for a in answers] == [2, 2, 2]
    messages = Message.objects.filter(dispatch=dispatch)
    assert sorted(m.status for m in messages) == ["read"] * 3
    assert all(m.read_at and m.delivered_at for m in messages)
    assert not ParkedReceipt.objects.exists()


def test_a_parked_status_never_moves_a_message_back(program):
    card, = make_issued_cards(campaign=make_campaign(program=program), count=1, with_png=False)
    now = timezone.now()
    assert apply_status(program_id=program.pk, channel="whatsapp", provider_message_id="wamid.X",
                        status="sent", at=now) == "parked"
    message = Message.objects.create(
        program=program, campaign=card.campaign, beneficiary=card.beneficiary, card=card,
        channel="whatsapp", status="sending", idempotency_key="early-1")
    Message.objects.filter(pk=message.pk).update(status="read", provider_message_id="wamid.X")
    from distribution.delivery_status import apply_parked
    assert apply_parked(channel="whatsapp", provider_message_ids=["wamid.X"]) == 1
    assert Message.objects.get(pk=message.pk).status == "read"


def test_parking_deletes_the_channels_expired_parked_statuses(program):
    old = timezone.now() - timedelta(days=2)
    ParkedReceipt.objects.create(program=program, channel="sms", provider_message_id="gone",
                                 status="delivered", at=old, expires_at=old)
    apply_status(program_id=program.pk, channel="sms", provider_message_id="new",
                 status="delivered", at=timezone.now())
    assert list(ParkedReceipt.objects.values_list("provider_message_id", flat=True)) == ["new"]


def test_a_providers_retry_of_a_parked_status_is_parked_once(program):
    for _ in range(2):
        apply_status(program_id=program.pk, channel="sms", provider_message_id="twice",
                     status="delivered", at=timezone.now())
    assert ParkedReceipt.objects.count() == 1
