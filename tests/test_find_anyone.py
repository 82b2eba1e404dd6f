"""Finding anyone in a campaign (issue 13, point 4): the campaign page's beneficiary list and
`GET /api/campaigns/<id>/beneficiaries` search, filter and page through the same selector
(campaigns/beneficiary_search.py); the card admin searches by holder."""

import re
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import Role
from tests.factories import (
    api_client,
    make_api_key,
    make_beneficiaries,
    make_beneficiary,
    make_campaign,
    make_card,
    make_message,
    make_program,
    make_user,
)

pytestmark = pytest.mark.django_db

ROW_NAME = re.compile(r'<td class="row-title">([^<]*)</td>')


@pytest.fixture
def campaign():
    return make_campaign(program=make_program(), prefix="DKR-ROR")


@pytest.fixture
def page(client, campaign):
    client.force_login(make_user(program=campaign.program, role=Role.OPERATOR))

    def get(**params):
        response = client.get(f"/campaigns/{campaign.pk}/", params)
        assert response.status_code == 200
        return response.content.decode()

    return get


@pytest.fixture
def api(campaign):
    client = api_client(make_api_key(program=campaign.program, role=Role.VIEWER))

    def get(**params):
        return client.get(f"/api/campaigns/{campaign.pk}/beneficiaries", params)

    return get


def names(html):
    return [name.strip() for name in ROW_NAME.findall(html)]


def api_names(response):
    assert response.status_code == 200, response.content
    return [f"{row['first_name']} {row['last_name']}" for row in response.json()["data"]]


def person(campaign, first_name, last_name="Diallo", **fields):
    return make_beneficiary(campaign=campaign, first_name=first_name, last_name=last_name,
                            **fields)


# Search keys -----------------------------------------------------------------------------


def test_search_by_name(page, campaign):
    person(campaign, "Ramatoulaye", "Ouédraogo")
    person(campaign, "Moussa", "Sow")

    assert names(page(q="ouédraogo")) == ["Ramatoulaye Ouédraogo"]


def test_search_by_first_and_last_name_together(page, campaign):
    person(campaign, "Awa", "Ndiaye")
    person(campaign, "Awa", "Sow")

    assert names(page(q="awa ndiaye")) == ["Awa Ndiaye"]


def test_search_by_external_id(page, campaign):
    person(campaign, "Awa", external_id="qhFWCEPyYng")
    person(campaign, "Moussa", external_id="x7Yt00aa")

    assert names(page(q="qhFWCEPyYng")) == ["Awa Diallo"]


def test_search_by_the_last_digits_of_a_phone_typed_with_spaces(page, campaign):
    person(campaign, "Awa", phone="+221771234567")
    person(campaign, "Moussa", phone="+221774567123")

    assert names(page(q="45 67")) == ["Awa Diallo"]


def test_search_by_a_whole_card_code(page, campaign):
    card = make_card(campaign=campaign, beneficiary=person(campaign, "Awa"))
    person(campaign, "Moussa")

    assert names(page(q=card.code.lower())) == ["Awa Diallo"]


def test_search_by_a_card_code_without_its_prefix(page, campaign):
    card = make_card(campaign=campaign, beneficiary=person(campaign, "Awa"))
    make_card(campaign=campaign, beneficiary=person(campaign, "Moussa"))

    assert names(page(q=card.code.rsplit("-", 1)[1])) == ["Awa Diallo"]


def test_a_search_matching_nobody_says_so(page, campaign):
    person(campaign, "Awa")

    html = page(q="Zzyzx")

    assert names(html) == [] and 'id="no-match"' in html


# Paging ----------------------------------------------------------------------------------


def test_pages_past_the_fiftieth_person_with_the_total(page, campaign):
    make_beneficiaries(campaign=campaign, count=120)

    html = page(page=3)

    assert len(names(html)) == 20
    assert names(html)[0] == "Moussa Diop 100"
    assert 'data-total="120" data-page="3" data-pages="3"' in html
    assert "120 bénéficiaires · page 3 sur 3" in html  # French by default
    assert 'rel="prev"' in html and 'rel="next"' not in html


def test_the_next_page_link_keeps_the_search(page, campaign):
    make_beneficiaries(campaign=campaign, count=60, first_name="Fatou")
    make_beneficiaries(campaign=campaign, count=60, first_name="Moussa")

    html = page(q="Fatou")

    assert 'data-total="60"' in html
    assert re.search(r'href="\?q=Fatou&amp;page=2#beneficiaries"', html)


def test_a_page_past_the_end_shows_the_last_page(page, campaign):
    make_beneficiaries(campaign=campaign, count=55)

    assert len(names(page(page=99))) == 5


# Card status -----------------------------------------------------------------------------


@pytest.fixture
def card_people(campaign):
    today = date.today()
    make_card(campaign=campaign, beneficiary=person(campaign, "Valide"))
    make_card(campaign=campaign, beneficiary=person(campaign, "Revoquee"),
              revoked_at=timezone.now(), revoked_reason="lost")
    make_card(campaign=campaign, beneficiary=person(campaign, "Expiree"),
              issued_on=today - timedelta(days=400), expires_on=today - timedelta(days=1))
    reissued = person(campaign, "Reemise")
    make_card(campaign=campaign, beneficiary=reissued, revoked_at=timezone.now(),
              revoked_reason="reissued")
    make_card(campaign=campaign, beneficiary=reissued)  # newest: valid
    person(campaign, "Sanscarte")


@pytest.mark.parametrize(("card_status", "expected"), [
    ("none", ["Sanscarte Diallo"]),
    ("valid", ["Valide Diallo", "Reemise Diallo"]),
    ("revoked", ["Revoquee Diallo"]),
    ("expired", ["Expiree Diallo"]),
])
def test_filter_by_the_status_of_the_newest_card(page, card_people, card_status, expected):
    assert names(page(card_status=card_status)) == expected


@pytest.mark.parametrize(("card_status", "expected"), [
    ("none", ["Sanscarte Diallo"]),
    ("valid", ["Valide Diallo", "Reemise Diallo"]),
    ("revoked", ["Revoquee Diallo"]),
    ("expired", ["Expiree Diallo"]),
])
def test_the_api_filters_by_card_status(api, card_people, card_status, expected):
    assert api_names(api(card_status=card_status)) == expected


# Delivery status -------------------------------------------------------------------------


@pytest.fixture
def delivery_people(campaign):
    def carded(name, *statuses):
        card = make_card(campaign=campaign, beneficiary=person(campaign, name))
        for status in statuses:
            make_message(card=card, status=status)

    carded("Lu", "failed", "read")
    carded("Livre", "sent", "delivered")
    carded("Envoye", "sent")
    carded("Echoue", "failed", "failed")
    carded("Enattente", "pending")
    carded("Jamais")


@pytest.mark.parametrize(("delivery_status", "expected"), [
    ("read", ["Lu Diallo"]),
    ("delivered", ["Livre Diallo"]),
    ("sent", ["Envoye Diallo"]),
    ("failed", ["Echoue Diallo"]),
    ("not_sent", ["Enattente Diallo", "Jamais Diallo"]),
])
def test_filter_by_the_furthest_delivery_status(page, delivery_people, delivery_status, expected):
    assert names(page(delivery_status=delivery_status)) == expected


def test_the_api_filters_by_delivery_status(api, delivery_people):
    assert api_names(api(delivery_status="failed")) == ["Echoue Diallo"]


def test_filters_and_search_combine(page, campaign, delivery_people):
    assert names(page(q="Livre", delivery_status="sent")) == []


# API -------------------------------------------------------------------------------------


def test_the_api_searches_by_phone_digits_and_card_code(api, campaign):
    awa = person(campaign, "Awa", phone="+221771234567")
    card = make_card(campaign=campaign,
                     beneficiary=person(campaign, "Moussa", phone="+221761112233"))

    assert api_names(api(q="1234567")) == [f"Awa {awa.last_name}"]
    assert api_names(api(q=card.code)) == ["Moussa Diallo"]


def test_the_api_pages_with_a_total(api, campaign):
    make_beneficiaries(campaign=campaign, count=70)

    body = api(limit=50, offset=50).json()

    assert len(body["data"]) == 20 and body["meta"]["total"] == 70


@pytest.mark.parametrize("params", [
    {"card_status": "lost"},
    {"delivery_status": "opened"},
    {"limit": 501},
    {"offset": -1},
])
def test_the_api_refuses_a_bad_filter_with_400(api, campaign, params):
    response = api(**params)

    assert response.status_code == 400
    assert next(iter(params)) in response.json()["fields"]


def test_a_bad_filter_in_the_page_url_is_ignored(page, campaign):
    person(campaign, "Awa")

    assert names(page(card_status="lost")) == ["Awa Diallo"]


# Card admin ------------------------------------------------------------------------------


def _staff(program, can_view_sensitive=False):
    user = make_user(program=program, role=Role.ADMIN, can_view_sensitive=can_view_sensitive,
                     is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="cards"))
    client = Client()
    client.force_login(user)
    return client


def test_the_card_admin_finds_a_card_by_holder_name_and_external_id():
    program = make_program()
    campaign = make_campaign(program=program)
    card = make_card(campaign=campaign, beneficiary=person(
        campaign, "Ramatoulaye", "Ouédraogo", external_id="qhFWCEPyYng"))
    other = make_card(campaign=campaign, beneficiary=person(campaign, "Moussa", "Sow"))
    client = _staff(program)

    for q in ("Ramatoulaye Ouédraogo", "qhFWCEPyYng"):
        html = client.get("/admin/cards/card/", {"q": q}).content.decode()
        assert card.code in html and other.code not in html, q


def test_the_card_admin_name_search_keeps_sensitive_cards_from_the_ungranted():
    program = make_program()
    campaign = make_campaign(program=program, campaign_type="hiv")
    card = make_card(campaign=campaign, beneficiary=person(campaign, "Zeinabou"))

    html = _staff(program).get("/admin/cards/card/", {"q": "Zeinabou"}).content.decode()
    granted = _staff(program, can_view_sensitive=True).get(
        "/admin/cards/card/", {"q": "Zeinabou"}).content.decode()

    assert card.code not in html
    assert card.code in granted


def test_the_schema_documents_the_list_filters(campaign):
    client = api_client(make_api_key(program=campaign.program))
    schema = client.get("/api/schema/?format=json").json()

    operation = schema["paths"]["/api/campaigns/{id}/beneficiaries/"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert {"q", "card_status", "delivery_status", "limit", "offset"} <= set(parameters)
    assert set(parameters["card_status"]["schema"]["enum"]) >= {
        "none", "valid", "revoked", "expired"}
    assert parameters["limit"]["schema"]["maximum"] == 500


# Delivery column ------------------------------------------------------------------------

DELIVERY_CELL = re.compile(
    r'<td class="row-title">([^<]*)</td>.*?<td [^>]*class="delivery-status"[^>]*>([^<]*)</td>',
    re.S,
)


def test_each_row_shows_the_furthest_delivery_status_in_french(page, delivery_people):
    html = page()

    assert dict((name.strip(), status) for name, status in DELIVERY_CELL.findall(html)) == {
        "Lu Diallo": "Lu", "Livre Diallo": "Remis", "Envoye Diallo": "Envoyé",
        "Echoue Diallo": "Échec", "Enattente Diallo": "—", "Jamais Diallo": "—",
    }


def test_the_list_reads_delivery_statuses_without_a_query_per_row(page, campaign,
                                                                   delivery_people):
    page()  # warm what the first request reads once (session, program)
    with CaptureQueriesContext(connection) as six_rows:
        page()
    for n in range(10):
        card = make_card(campaign=campaign, beneficiary=person(campaign, f"Extra{n}"))
        make_message(card=card, status="read")

    with CaptureQueriesContext(connection) as sixteen_rows:
        html = page()

    assert len(DELIVERY_CELL.findall(html)) == 16
    assert len(sixteen_rows.captured_queries) == len(six_rows.captured_queries)


def test_the_api_returns_each_persons_delivery_status(api, delivery_people):
    response = api()

    assert response.status_code == 200
    assert {f"{row['first_name']} {row['last_name']}": row["delivery_status"]
            for row in response.json()["data"]} == {
        "Lu Diallo": "read", "Livre Diallo": "delivered", "Envoye Diallo": "sent",
        "Echoue Diallo": "failed", "Enattente Diallo": "not_sent", "Jamais Diallo": "not_sent",
    }


def test_the_schema_documents_the_delivery_status_field(campaign):
    client = api_client(make_api_key(program=campaign.program))
    schema = client.get("/api/schema/?format=json").json()

    fields = schema["components"]["schemas"]["BeneficiaryOut"]["properties"]
    assert fields["delivery_status"]["readOnly"] is True
