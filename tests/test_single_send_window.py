"""Quiet hours for single sends (POST /api/dhis2/send-card, the Send page): outside the
sending window an SMS or WhatsApp message is queued for the window's opening and the answer
says when, unless the operator sends now. The queued message goes out once, at the opening,
through the real RQ worker and scheduler, to the Orange stub."""

from datetime import UTC, datetime, time

import pytest
from django.test import Client
from django.utils import timezone

from campaigns.access import SESSION_PROGRAM_KEY
from campaigns.models import Role
from distribution.models import Message
from tests.dispatch_helpers import work_until
from tests.factories import (
    api_client,
    make_api_key,
    make_campaign,
    make_dispatch,
    make_integration,
    make_issued_cards,
    make_program,
    make_user,
)

pytestmark = pytest.mark.django_db(transaction=True)
pytest_plugins = ["tests.stubs.fixtures"]


def clock_at(settings, moment):
    """The dispatch clock shows `moment` (UTC) now."""
    settings.DISPATCH_CLOCK_OFFSET_SECONDS = (moment - timezone.now()).total_seconds()


@pytest.fixture
def quiet(settings):
    settings.SINGLE_SEND_QUIET_HOURS = True
    return settings


@pytest.fixture
def program():
    return make_program()  # Africa/Dakar, UTC+0


@pytest.fixture
def card(program, orange_stub):
    make_integration(program=program, channel="sms", config=orange_stub.config())
    card, = make_issued_cards(campaign=make_campaign(program=program), count=1, with_png=False)
    return card


def send(program, card, **extra):
    client = api_client(make_api_key(program=program, role=Role.OPERATOR))
    return client.post("/api/dhis2/send-card", {
        "enrollment_id": card.beneficiary.external_id, "channel": "sms", **extra},
        format="json")


def test_a_send_at_night_is_queued_for_the_mornings_opening(quiet, program, card, orange_stub):
    clock_at(quiet, datetime(2026, 6, 10, 22, 30, tzinfo=UTC))  # Dakar is UTC+0
    response = send(program, card)
    assert response.status_code == 202
    assert response.json()["scheduled_for"] == "2026-06-11T07:00:00Z"
    assert response.json()["message"]["status"] == "pending"
    assert orange_stub.sent == []


def test_the_queued_send_goes_out_once_at_the_opening(quiet, program, card, orange_stub):
    clock_at(quiet, datetime(2026, 6, 10, 6, 59, 58, tzinfo=UTC))
    assert send(program, card).status_code == 202
    assert orange_stub.sent == []
    work_until(lambda: Message.objects.get().status == "sent", timeout=20,
               message="the queued send")
    work_until(lambda: True)
    assert len(orange_stub.sent) == 1
    assert Message.objects.get().sent_at >= datetime(2026, 6, 10, 7, 0, tzinfo=UTC)


def test_send_now_sends_outside_the_window(quiet, program, card, orange_stub):
    clock_at(quiet, datetime(2026, 6, 10, 22, 30, tzinfo=UTC))
    response = send(program, card, send_now=True)
    assert response.status_code == 201 and len(orange_stub.sent) == 1


def test_the_campaigns_latest_dispatch_window_applies(quiet, program, card, orange_stub):
    make_dispatch(campaign=card.campaign, window_start=time(20, 0), window_end=time(23, 0),
                  weekdays=list(range(7)))
    clock_at(quiet, datetime(2026, 6, 10, 22, 30, tzinfo=UTC))
    assert send(program, card).status_code == 201
    clock_at(quiet, datetime(2026, 6, 10, 12, 0, tzinfo=UTC))
    response = send(program, card)
    assert response.json()["scheduled_for"] == "2026-06-10T20:00:00Z"


def test_the_send_page_says_when_a_queued_send_goes_out(quiet, program, card, orange_stub):
    clock_at(quiet, datetime(2026, 6, 10, 22, 30, tzinfo=UTC))
    client = Client()
    client.force_login(make_user(program=program, role=Role.OPERATOR))
    session = client.session
    session[SESSION_PROGRAM_KEY] = program.pk
    session.save()
    url = f"/campaigns/{card.campaign_id}/beneficiaries/{card.beneficiary_id}/send/"
    page = client.post(url, {"channel": "sms", "phone_number": "",
                             "message": "{card_link}"}).content.decode()
    assert 'data-send-scheduled="11/06/2026 07:00"' in page and "Africa/Dakar" in page
    assert orange_stub.sent == []
    page = client.post(url, {"channel": "sms", "phone_number": "", "message": "{card_link}",
                             "send_now": "on"}).content.decode()
    assert 'data-send-ok="true"' in page and len(orange_stub.sent) == 1


def test_a_repeated_request_gets_the_same_queued_send_back(quiet, program, card, orange_stub):
    clock_at(quiet, datetime(2026, 6, 10, 22, 30, tzinfo=UTC))
    client = api_client(make_api_key(program=program, role=Role.OPERATOR))
    answers = [client.post("/api/dhis2/send-card", {
        "enrollment_id": card.beneficiary.external_id, "channel": "sms"}, format="json",
        HTTP_IDEMPOTENCY_KEY="dhis2-evt-42") for _ in range(2)]
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[1].json()["scheduled_for"] == "2026-06-11T07:00:00Z"
    assert Message.objects.count() == 1
