"""Every page and API error in French: no English word from the list of strings that once
leaked (import errors, provider errors, raw statuses, weekdays, admin model names, DRF's
default messages)."""

import html as html_lib
import re

import pytest
from django.conf import settings
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import translation

from campaigns.dhis2.models import Dhis2SyncRun
from campaigns.models import Role
from campaigns.wizard import STEPS
from tests.factories import (
    api_client,
    make_api_key,
    make_card,
    make_dhis2_connection,
    make_dhis2_link,
    make_dispatch,
    make_integration,
    make_job,
    make_message,
    make_program,
    make_user,
)
from tests.factories import make_beneficiary as make_person
from tests.factories import make_campaign as make_campaign_row
from tests.routes import url_routes
from tests.stubs.dhis2 import COUNTRY, MAPPING, PROGRAM

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.stubs.dhis2_fixtures"]

# Shown text (tags, scripts and styles removed), case-sensitive.
LEAKED_TEXT = [
    "phone has letters", "not a valid number", "not a date", "no such day", "in the future",
    "missing from the header", "duplicates an earlier row", "rows were rejected",
    "row was rejected", "Nothing was imported", "cannot connect", "connection_error",
    "connection timed out", "entitys", "Beneficiaries", "Campaigns",
    "Dispatches", "Signing keys", "Provider integrations", "Not found",
    "Invalid", "This field", "is required", "Authentication credentials",
    "Programs and campaigns", "Phone number id", "Access token", "Client secret",
]
LEAKED_WORDS = re.compile(r"\b(mon|tue|wed|thu|fri|sat|sun|failed|sent|queued)\b")
# In the HTML itself: a raw status inside an element.
LEAKED_HTML = [">failed<", ">sent<", ">whatsapp<"]


def shown_text(page):
    page = re.sub(r"<(script|style|template)\b.*?</\1>", " ", page, flags=re.S | re.I)
    page = re.sub(r"<[^>]+>", " ", page)
    return html_lib.unescape(page)


def english_in(body):
    text = shown_text(body)
    found = [s for s in LEAKED_TEXT if s in text] + [s for s in LEAKED_HTML if s in body]
    found += sorted(set(LEAKED_WORDS.findall(text)))
    return found


@pytest.fixture
def world(dhis2_stub):
    program = make_program(name="PEV Dakar", quota=1_234_567)
    user = make_user(program=program, role=Role.ADMIN, is_staff=True, is_superuser=True)
    campaign = make_campaign_row(program=program, name="Rougeole Dakar")
    person = make_person(campaign=campaign, phone="+221771234567", consent_sms=True)
    job = make_job(campaign=campaign)
    card = make_card(campaign=campaign, beneficiary=person, job=job)
    dispatch = make_dispatch(campaign=campaign, weekdays=[0, 1, 2, 3, 4])
    make_message(card=card, dispatch=dispatch, status="failed", error_code="connection_error",
                 error_detail="whatsapp : connexion impossible")
    make_integration(program=program, channel="sms", config={
        "client_id": "abc", "client_secret": "s3cret", "sender_address": "tel:+221770000000"})
    make_dhis2_connection(program=program, config=dhis2_stub.config())
    make_dhis2_link(campaign=campaign, program_uid=PROGRAM, org_unit_uid=COUNTRY,
                    mapping=dict(MAPPING))
    Dhis2SyncRun.objects.create(campaign=campaign, status="failed", error="arrêt")
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    return {"client": client, "campaign": campaign, "job": job, "person": person,
            "program": program, "key": make_api_key(program=program)}


def page_urls(world):
    """Every browser page of the URLconf that a GET shows, with the sample objects."""
    values = {"pk": world["campaign"].pk, "beneficiary_id": world["person"].pk}
    skip = ("api/", "admin/", "i18n/", "health", "webhooks", "logout", "programs/", ".png",
            "verify", "v/", "portal", "download", "export", "files/", "media/")
    urls = []
    for route, _view in url_routes():
        if route.startswith(skip) or any(s in route for s in (".png", "download", "/file")):
            continue
        if "(?P" in route or "^" in route:
            continue
        values_here = {**values, "pk": world["job"].pk} if route.startswith("jobs/") else values
        url = "/" + route
        for name, value in values_here.items():
            url = re.sub(rf"<(int:)?{name}>", str(value), url)
        if "<slug:step>" in url:
            urls += [url.replace("<slug:step>", step.slug) for step in STEPS]
        elif "<" not in url:
            urls.append(url)
    return urls


def admin_urls():
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        meta = model._meta
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
    return urls


def test_the_walk_covers_the_pages_the_issue_names(world):
    urls = page_urls(world)
    pk = world["campaign"].pk
    for expected in ("/", "/campaigns/", "/campaigns/new/general/", f"/campaigns/{pk}/",
                     f"/campaigns/{pk}/design/", f"/campaigns/{pk}/distribution/",
                     "/settings/integrations/", "/dhis2/connection/", f"/campaigns/{pk}/dhis2/",
                     f"/jobs/{world['job'].pk}/",
                     f"/campaigns/{pk}/beneficiaries/{world['person'].pk}/send/"):
        assert expected in urls


def test_every_page_is_in_french(world):
    leaks = {}
    shown = 0
    for url in page_urls(world) + admin_urls():
        response = world["client"].get(url, follow=True)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        shown += 1
        if found := english_in(response.content.decode()):
            leaks[url] = found
    assert shown > 20
    assert leaks == {}


def test_import_errors_in_french_name_line_and_field(world):
    campaign = world["campaign"]
    rows = (b"first_name,last_name,date_of_birth,sex,phone_number\n"
            b"Awa,Ndiaye,2019-02-30,F,77ABC\n")
    response = world["client"].post(reverse("campaign-import", args=[campaign.pk]),
                                    {"file": _upload(rows)}, follow=True)
    page = response.content.decode()
    assert english_in(page) == []
    assert "le téléphone contient des lettres" in page
    assert "date de naissance" in page


def _upload(data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("people.csv", data, content_type="text/csv")


def api_errors(world):
    """(method, url, body) of bad requests and the answers they get, in French."""
    key, campaign = world["key"], world["campaign"]
    client = api_client(key)
    anonymous = api_client()
    bad_rows = {"beneficiaries": [
        {"first_name": "Awa", "last_name": "Ndiaye", "date_of_birth": "31/02/2019", "sex": "F",
         "phone_number": "77ABC"},
        {"first_name": " ", "last_name": "Fall", "date_of_birth": "2090-01-01", "sex": "X"},
    ]}
    lang = {"HTTP_ACCEPT_LANGUAGE": "fr"}
    return [
        client.post(f"/api/campaigns/{campaign.pk}/beneficiaries", bad_rows, format="json",
                    **lang),
        client.post(f"/api/campaigns/{campaign.pk}/beneficiaries", {"beneficiaries": []},
                    format="json", **lang),
        client.post("/api/campaigns", {"name": ""}, format="json", **lang),
        client.post("/api/campaigns", {"name": "X", "template_id": "nope", "language": "xx"},
                    format="json", **lang),
        anonymous.get("/api/campaigns", **lang),
        client.get("/api/campaigns/999999", **lang),
        client.get("/api/jobs/999999", **lang),
    ]


def messages_of(body):
    """The texts of an error answer meant for people (not its keys nor field names)."""
    if isinstance(body, dict):
        return [text for key, value in body.items() if key not in ("field", "code")
                for text in messages_of(value)]
    if isinstance(body, list):
        return [text for value in body for text in messages_of(value)]
    return [body] if isinstance(body, str) else []


def test_api_errors_are_in_french(world):
    leaks = {}
    for response in api_errors(world):
        assert response.status_code >= 400
        found = english_in(" | ".join(messages_of(response.json())))
        if found:
            leaks[response.request["PATH_INFO"]] = (found, response.content[:300])
    assert leaks == {}


def test_api_import_errors_name_the_field_in_french_and_keep_the_code(world):
    response = api_errors(world)[0]
    error = next(e for e in response.json()["errors"] if e["field"] == "phone_number")
    assert (error["field_label"], error["message"]) == (
        "téléphone", "le téléphone contient des lettres")


def test_message_log_api_keeps_status_codes_and_adds_labels(world):
    response = api_client(world["key"]).get("/api/distribution/logs", HTTP_ACCEPT_LANGUAGE="fr")
    row = response.json()["data"][0]
    assert (row["status"], row["status_label"]) == ("failed", "Échec")
    assert (row["error_code"], row["error_label"]) == ("connection_error", "connexion impossible")


def test_weekdays_of_a_dispatch_are_in_french(world):
    page = world["client"].get(f"/campaigns/{world['campaign'].pk}/distribution/")
    assert "Lun, Mar, Mer, Jeu, Ven" in shown_text(page.content.decode())


def test_numbers_are_grouped_per_language(world):
    with translation.override("fr"):
        from django.utils.formats import number_format

        french = number_format(1_234_567, force_grouping=True)
    with translation.override("en"):
        english = number_format(1_234_567, force_grouping=True)
    assert (french.replace("\u202f", " ").replace("\xa0", " "), english) == (
        "1 234 567", "1,234,567")
