"""Distribution > Logs (/distribution/logs/): the program's messages across its campaigns,
filtered like the log API (same serializer and selector), paged, exported as CSV, with the
enrollment id on each row; sensitive campaigns' rows left out for members without the grant."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.test import Client

from campaigns.models import Role
from distribution.models import Dispatch
from tests.factories import (
    api_client,
    make_api_key,
    make_campaign,
    make_dispatch,
    make_issued_cards,
    make_message,
    make_program,
    make_user,
)

pytestmark = pytest.mark.django_db

URL = "/distribution/logs/"


@pytest.fixture
def program():
    program = make_program(name="PEV Thiès")
    program.timezone = "UTC"
    program.save(update_fields=["timezone"])
    return program


@pytest.fixture
def measles(program):
    return make_campaign(program=program, name="Rougeole")


@pytest.fixture
def polio(program):
    return make_campaign(program=program, name="Polio")


def _client(program, *, role=Role.VIEWER, granted=False, language="en"):
    client = Client()
    client.force_login(make_user(program=program, role=role, can_view_sensitive=granted))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def _ids(response):
    """The message ids of the page's rows, in order."""
    page = response.content.decode()
    return [int(part.split('"', 1)[0]) for part in page.split('data-message-id="')[1:]]


def test_the_page_lists_every_campaigns_messages_with_the_enrollment_id(program, measles,
                                                                        polio):
    (a,) = make_issued_cards(campaign=measles, count=1, with_png=False)
    (b,) = make_issued_cards(campaign=polio, count=1, with_png=False)
    first, second = make_message(card=a), make_message(card=b)
    response = _client(program).get(URL)
    assert _ids(response) == [second.pk, first.pk]
    assert a.beneficiary.external_id in response.content.decode()


def test_the_page_is_french_by_default(program):
    client = Client()
    client.force_login(make_user(program=program))
    page = client.get(URL).content.decode()
    assert "Journal des messages" in page


def test_the_channel_filter(program, measles):
    (card,) = make_issued_cards(campaign=measles, count=1, with_png=False)
    make_message(card=card, channel="whatsapp")
    sms = make_message(card=card, channel="sms")
    assert _ids(_client(program).get(URL, {"channel": "sms"})) == [sms.pk]


def test_the_status_filter(program, measles):
    (card,) = make_issued_cards(campaign=measles, count=1, with_png=False)
    make_message(card=card, status="sent")
    failed = make_message(card=card, status="failed", error_code="invalid_number")
    assert _ids(_client(program).get(URL, {"status": "failed"})) == [failed.pk]


def test_the_campaign_filter(program, measles, polio):
    (a,) = make_issued_cards(campaign=measles, count=1, with_png=False)
    (b,) = make_issued_cards(campaign=polio, count=1, with_png=False)
    make_message(card=a)
    wanted = make_message(card=b)
    assert _ids(_client(program).get(URL, {"campaign": polio.pk})) == [wanted.pk]


def test_the_date_filters_include_both_days(program, measles):
    (card,) = make_issued_cards(campaign=measles, count=1, with_png=False)
    day = datetime(2026, 5, 10, 12, tzinfo=UTC)
    make_message(card=card, created_at=day - timedelta(days=1))
    inside = [make_message(card=card, created_at=day + timedelta(days=d)) for d in (0, 1)]
    make_message(card=card, created_at=day + timedelta(days=2))
    response = _client(program).get(URL, {"date_from": "2026-05-10", "date_to": "2026-05-11"})
    assert sorted(_ids(response)) == sorted(m.pk for m in inside)


def test_the_external_id_filter(program, measles):
    a, b = make_issued_cards(campaign=measles, count=2, with_png=False)
    make_message(card=a)
    wanted = make_message(card=b)
    response = _client(program).get(URL, {"external_id": b.beneficiary.external_id})
    assert _ids(response) == [wanted.pk]


def test_a_bad_filter_is_named_and_the_others_still_apply(program, measles):
    (card,) = make_issued_cards(campaign=measles, count=1, with_png=False)
    make_message(card=card, channel="whatsapp")
    sms = make_message(card=card, channel="sms")
    response = _client(program).get(URL, {"channel": "sms", "date_from": "not-a-date"})
    assert response.status_code == 200
    assert "date_from" in response.content.decode()
    assert _ids(response) == [sms.pk]


def test_the_page_shows_fifty_rows_and_a_next_page(program, measles):
    (card,) = make_issued_cards(campaign=measles, count=1, with_png=False)
    for _ in range(51):
        make_message(card=card)
    client = _client(program)
    first = client.get(URL, {"channel": "whatsapp"})
    assert len(_ids(first)) == 50
    assert "channel=whatsapp&amp;page=2" in first.content.decode()
    assert len(_ids(client.get(URL, {"channel": "whatsapp", "page": 2}))) == 1


def test_the_csv_link_carries_the_filters(program, measles):
    page = _client(program).get(URL, {"channel": "sms", "campaign": measles.pk}).content.decode()
    assert f"/api/distribution/logs.csv?channel=sms&amp;campaign={measles.pk}" in page


def test_the_csv_filters_like_the_page_and_holds_the_enrollment_id(program, measles):
    a, b = make_issued_cards(campaign=measles, count=2, with_png=False)
    make_message(card=a, channel="sms")
    wanted = make_message(card=b, channel="sms")
    client = _client(program)
    response = client.get("/api/distribution/logs.csv",
                          {"channel": "sms", "external_id": b.beneficiary.external_id})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()
                                           if response.streaming
                                           else response.content.decode())))
    assert [(int(r["id"]), r["external_id"]) for r in rows] == [
        (wanted.pk, b.beneficiary.external_id)]


def test_the_api_filters_by_external_id_and_returns_it(program, measles):
    a, b = make_issued_cards(campaign=measles, count=2, with_png=False)
    make_message(card=a)
    wanted = make_message(card=b)
    client = api_client(make_api_key(program=program, role=Role.VIEWER))
    body = client.get("/api/distribution/logs",
                      {"external_id": b.beneficiary.external_id}).json()
    assert [(m["id"], m["external_id"]) for m in body["data"]] == [
        (wanted.pk, b.beneficiary.external_id)]


def test_the_api_says_when_a_dispatch_runs(program, measles):
    client = api_client(make_api_key(program=program, role=Role.VIEWER))
    assert client.get("/api/distribution/logs").json()["meta"]["dispatches_running"] == 0
    run = make_dispatch(campaign=measles)
    Dispatch.objects.filter(pk=run.pk).update(status=Dispatch.Status.RUNNING)
    assert client.get("/api/distribution/logs").json()["meta"]["dispatches_running"] == 1


def test_a_sensitive_campaigns_rows_are_left_out_without_the_grant(program, measles):
    hiv = make_campaign(program=program, name="VIH", campaign_type="hiv")
    (secret,) = make_issued_cards(campaign=hiv, count=1, with_png=False)
    (open_card,) = make_issued_cards(campaign=measles, count=1, with_png=False)
    make_message(card=secret)
    shown = make_message(card=open_card)
    response = _client(program).get(URL)
    assert _ids(response) == [shown.pk]
    assert secret.beneficiary.external_id not in response.content.decode()
    assert "VIH" not in response.content.decode()


def test_a_sensitive_campaign_filter_shows_nothing_without_the_grant(program):
    hiv = make_campaign(program=program, name="VIH", campaign_type="hiv")
    (secret,) = make_issued_cards(campaign=hiv, count=1, with_png=False)
    make_message(card=secret)
    assert _ids(_client(program).get(URL, {"campaign": hiv.pk})) == []


def test_the_grant_shows_the_sensitive_campaigns_rows(program):
    hiv = make_campaign(program=program, name="VIH", campaign_type="hiv")
    (secret,) = make_issued_cards(campaign=hiv, count=1, with_png=False)
    message = make_message(card=secret)
    assert _ids(_client(program, granted=True).get(URL)) == [message.pk]


def test_another_programs_messages_are_not_listed(program, measles):
    other = make_campaign(program=make_program())
    (card,) = make_issued_cards(campaign=other, count=1, with_png=False)
    make_message(card=card)
    assert _ids(_client(program).get(URL)) == []


def test_the_navigation_and_the_distribution_page_link_to_the_logs(program, measles):
    client = _client(program)
    assert f'href="{URL}"' in client.get("/").content.decode()
    page = client.get(f"/campaigns/{measles.pk}/distribution/").content.decode()
    assert f'href="{URL}?campaign={measles.pk}"' in page
