"""GET /api/distribution/logs (+ .csv): the send log, filtered, paginated, scoped to the
caller's program, with masked numbers and never a name."""

import csv
import io
import logging
from datetime import UTC, datetime, time

import pytest
from django.utils import timezone, translation

from campaigns.models import CampaignType, Role
from distribution.delivery_status import apply_status
from distribution.dispatch.runs import dispatch_start
from distribution.providers.error_labels import ORANGE_UNDELIVERED
from tests.dispatch_helpers import dispatch_done, work_until
from tests.factories import (
    api_client,
    make_api_key,
    make_campaign,
    make_dispatch,
    make_integration,
    make_issued_cards,
    make_message,
    make_program,
)

pytest_plugins = ["tests.stubs.fixtures"]

FIRST, LAST = "Ndeye", "Faye-Sall"


@pytest.fixture
def client(program):
    return api_client(make_api_key(program=program, role=Role.VIEWER))


@pytest.fixture
def cards(program):
    return make_issued_cards(campaign=make_campaign(program=program), count=3, with_png=False,
                             first_name=FIRST, last_name=LAST)


def no_personal_data(text, cards):
    for card in cards:
        assert FIRST not in text and LAST not in text
        assert card.beneficiary.phone not in text
        assert card.beneficiary.phone.lstrip("+") not in text


@pytest.mark.django_db
def test_the_log_lists_attempts_with_masked_numbers_and_no_names(client, cards):
    for card in cards:
        make_message(card=card, channel="sms")
    response = client.get("/api/distribution/logs")
    assert response.status_code == 200
    body = response.json()
    assert body["meta"] == {"total": 3, "limit": 50, "offset": 0,
                            "dispatches_running": 0}
    row = body["data"][0]
    assert row["recipient"].startswith("+22177***") and len(row["recipient"]) == 13
    assert {"card_code", "channel", "attempt", "status", "provider_message_id", "error_code",
            "sent_at", "delivered_at", "read_at", "failed_at"} <= set(row)
    no_personal_data(response.content.decode(), cards)


@pytest.mark.django_db
def test_the_csv_holds_the_same_rows_without_names_or_numbers(client, cards):
    for card in cards:
        make_message(card=card, channel="sms", error_detail="Receiver unknown")
    response = client.get("/api/distribution/logs.csv")
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 3
    assert {row["card_code"] for row in rows} == {card.code for card in cards}
    no_personal_data(text, cards)


@pytest.mark.django_db
def test_filters_narrow_the_log(client, cards):
    first, second, third = cards
    make_message(card=first, channel="sms", status="delivered")
    make_message(card=second, channel="whatsapp", status="failed")
    make_message(card=third, channel="whatsapp", status="sent",
                 created_at=datetime(2026, 1, 15, 10, 0, tzinfo=UTC))

    def codes(**query):
        return {row["card_code"] for row in client.get("/api/distribution/logs", query)
                .json()["data"]}

    assert codes(channel="whatsapp") == {second.code, third.code}
    assert codes(status="failed") == {second.code}
    assert codes(status="sent,delivered") == {first.code, third.code}
    assert codes(beneficiary=first.beneficiary_id) == {first.code}
    assert codes(campaign=first.campaign_id) == {c.code for c in cards}
    assert codes(date_from="2026-01-15", date_to="2026-01-15") == {third.code}


@pytest.mark.django_db
def test_the_log_is_paginated(client, cards):
    for _ in range(5):
        make_message(card=cards[0])
    page = client.get("/api/distribution/logs", {"limit": 2, "offset": 4}).json()
    assert page["meta"] == {"total": 5, "limit": 2, "offset": 4, "dispatches_running": 0}
    assert len(page["data"]) == 1


@pytest.mark.django_db
def test_a_bad_filter_names_itself(client):
    response = client.get("/api/distribution/logs", {"status": "lost"})
    assert response.status_code == 400
    assert "status" in response.json()["fields"]
    assert client.get("/api/distribution/logs",
                      {"date_from": "2026-02-01", "date_to": "2026-01-01"}).status_code == 400


@pytest.mark.django_db
def test_another_programs_messages_are_invisible(client, cards):
    theirs, = make_issued_cards(campaign=make_campaign(program=make_program()), count=1,
                                with_png=False)
    make_message(card=theirs)
    make_message(card=cards[0])
    body = client.get("/api/distribution/logs").json()
    assert [row["card_code"] for row in body["data"]] == [cards[0].code]
    assert client.get("/api/distribution/logs", {"campaign": theirs.campaign_id}).json()[
        "meta"]["total"] == 0


@pytest.mark.django_db
def test_hiv_campaign_messages_need_the_sensitive_grant(program, cards):
    hiv_card, = make_issued_cards(
        campaign=make_campaign(program=program, campaign_type=CampaignType.HIV), count=1,
        with_png=False)
    make_message(card=hiv_card)
    make_message(card=cards[0])
    plain = api_client(make_api_key(program=program, role=Role.VIEWER))
    granted = api_client(make_api_key(program=program, role=Role.VIEWER, can_view_sensitive=True))
    assert plain.get("/api/distribution/logs").json()["meta"]["total"] == 1
    assert plain.get("/api/distribution/logs",
                     {"campaign": hiv_card.campaign_id}).status_code == 403
    assert granted.get("/api/distribution/logs").json()["meta"]["total"] == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_sending_a_dispatch_writes_no_name_or_number_to_the_log_output(
    program, orange_stub, caplog, settings
):
    settings.DISPATCH_SEND_CONCURRENCY = 4
    caplog.set_level(logging.DEBUG)
    make_integration(program=program, channel="sms", config=orange_stub.config())
    cards = make_issued_cards(campaign=make_campaign(program=program), count=5, with_png=False,
                              first_name=FIRST, last_name=LAST)
    orange_stub.fail_next("SVC0004", variables=["address"])
    dispatch = make_dispatch(campaign=cards[0].campaign, first_channel="sms",
                             window_start=time(0), window_end=time(0, 0),
                             weekdays=list(range(7)), retry_delays=[0])
    dispatch_start(dispatch=dispatch)
    work_until(dispatch_done(dispatch))
    assert len(orange_stub.sent) == 4
    assert "campaignid.outbound_http" in caplog.text  # the sends were logged...
    no_personal_data(caplog.text, cards)


@pytest.mark.django_db
def test_our_own_error_detail_reads_in_the_viewers_language(client, cards):
    message = make_message(card=cards[0], channel="sms")
    with translation.override("en"):  # the webhook's worker, in another language
        apply_status(program_id=message.program_id, channel="sms",
                     provider_message_id=message.provider_message_id, status="failed",
                     at=timezone.now(), error_code="DeliveryImpossible",
                     error_detail=ORANGE_UNDELIVERED)

    api = client.get("/api/distribution/logs", HTTP_ACCEPT_LANGUAGE="fr").json()["data"][0]
    text = b"".join(client.get("/api/distribution/logs.csv", HTTP_ACCEPT_LANGUAGE="fr")
                    .streaming_content).decode()

    french = "Orange n\u2019a pas pu remettre le SMS"
    assert (api["error_label"], api["error_detail"]) == ("livraison impossible", french)
    assert french in text


@pytest.mark.django_db
def test_a_providers_own_error_detail_is_shown_as_it_came(client, cards):
    make_message(card=cards[0], channel="sms", status="failed", error_code="1001",
                 error_detail="Receiver unknown")

    row = client.get("/api/distribution/logs", HTTP_ACCEPT_LANGUAGE="fr").json()["data"][0]

    assert row["error_detail"] == "Receiver unknown"
