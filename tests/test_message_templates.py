"""A campaign's message per language: defaults in fr/en/wo, saving with only the known
{variables}, the SMS count and cost of a text, and the text the dispatch really sends."""

from datetime import time

import pytest

from campaigns.models import Role
from distribution.dispatch.runs import dispatch_start
from distribution.message_templates import DEFAULT_TEMPLATES, VARIABLES, render
from distribution.providers.orange_sms.segments import sms_segments
from tests.dispatch_helpers import dispatch_done, work_until
from tests.factories import (
    api_client,
    make_api_key,
    make_beneficiary,
    make_campaign,
    make_dispatch,
    make_integration,
    make_issued_cards,
    make_program,
)

pytest_plugins = ["tests.stubs.fixtures"]


@pytest.fixture
def campaign():
    return make_campaign(program=make_program(name="PEV Dakar"), language="fr")


@pytest.fixture
def client(campaign):
    return api_client(make_api_key(program=campaign.program, role=Role.OPERATOR))


def url(campaign, suffix=""):
    return f"/api/campaigns/{campaign.pk}/message-templates{suffix}"


@pytest.mark.django_db
def test_every_language_has_a_default_message(client, campaign):
    body = client.get(url(campaign)).json()
    assert body["variables"] == list(VARIABLES)
    assert [(t["language"], t["is_default"]) for t in body["templates"]] == [
        ("fr", True), ("en", True), ("wo", True)]
    assert all("{card_link}" in t["body"]
               for t in body["templates"])


def test_the_defaults_stay_in_the_gsm_alphabet():
    sample = dict.fromkeys(VARIABLES, "x")
    for language, body in DEFAULT_TEMPLATES.items():
        assert sms_segments(render(body, sample)).encoding == "GSM-7", language


@pytest.mark.django_db
def test_a_saved_message_replaces_the_default_for_its_language(client, campaign):
    response = client.put(url(campaign, "/en"),
                          {"body": "Hi {first_name}, card {card_code}: {verification_url}"},
                          format="json")
    assert response.status_code == 200
    templates = {t["language"]: t for t in client.get(url(campaign)).json()["templates"]}
    assert templates["en"]["body"] == "Hi {first_name}, card {card_code}: {verification_url}"
    assert not templates["en"]["is_default"] and templates["fr"]["is_default"]


@pytest.mark.django_db
def test_an_unknown_variable_is_refused_by_name(client, campaign):
    response = client.put(url(campaign, "/fr"), {"body": "Bonjour {prenom}, {card_code}"},
                          format="json")
    assert response.status_code == 400
    assert "{prenom}" in response.json()["fields"]["body"][0]
    assert "{prenom}" in response.json()["error"]
    assert client.get(url(campaign)).json()["templates"][0]["is_default"]


@pytest.mark.parametrize("body", [
    "Hello {first_name.__class__}", "Hello {first_name!r}", "Hello {first_name:>20}",
    "Hello {0}", "Hello {first_name", "Hello }",
])
@pytest.mark.django_db
def test_anything_but_a_plain_variable_is_refused(client, campaign, body):
    response = client.put(url(campaign, "/fr"), {"body": body}, format="json")
    assert response.status_code == 400
    assert "body" in response.json()["fields"]


@pytest.mark.django_db
def test_literal_braces_are_written_doubled(client, campaign):
    response = client.put(url(campaign, "/fr"), {"body": "{{ {card_code} }}"}, format="json")
    assert response.status_code == 200
    assert render("{{ {card_code} }}", {"card_code": "ABC"}) == "{ ABC }"


@pytest.mark.django_db
def test_deleting_a_message_brings_the_default_back(client, campaign):
    client.put(url(campaign, "/fr"), {"body": "Carte {card_code}"}, format="json")
    assert client.delete(url(campaign, "/fr")).status_code == 204
    assert client.get(url(campaign)).json()["templates"][0]["body"] == DEFAULT_TEMPLATES["fr"]


@pytest.mark.django_db
def test_a_viewer_cannot_change_a_message(campaign):
    viewer = api_client(make_api_key(program=campaign.program, role=Role.VIEWER))
    assert viewer.put(url(campaign, "/fr"), {"body": "{card_code}"},
                      format="json").status_code == 403


@pytest.mark.django_db
def test_another_programs_campaign_is_404(client):
    theirs = make_campaign(program=make_program())
    assert client.get(url(theirs)).status_code == 404
    assert client.put(url(theirs, "/fr"), {"body": "{card_code}"}, format="json").status_code == 404


@pytest.mark.django_db
def test_the_preview_counts_segments_and_cost_for_the_sms_recipients(client, campaign, settings):
    settings.SMS_PRICE_PER_SEGMENT = "20"
    make_beneficiary(campaign=campaign, first_name="Awa")
    make_beneficiary(campaign=campaign, first_name="Awa", consent_sms=False)
    response = client.post(url(campaign, "/preview"),
                           {"body": "Bonjour {first_name}, carte {card_code}"}, format="json")
    body = response.json()
    assert body["sample"] == f"Bonjour Aminata, carte {campaign.prefix}-9XQ7LM2A"
    assert (body["encoding"], body["segments"], body["recipients"]) == ("GSM-7", 1, 1)
    assert body["segments_total"] == 1 and float(body["cost"]) == 20.0


@pytest.mark.django_db
def test_one_cedilla_makes_the_sms_unicode(client, campaign):
    body = client.post(url(campaign, "/preview"), {"body": "Reçu : {card_code}"},
                       format="json").json()
    assert body["encoding"] == "UCS-2"


@pytest.mark.django_db
def test_the_preview_refuses_an_unknown_variable(client, campaign):
    response = client.post(url(campaign, "/preview"), {"body": "{nom}"}, format="json")
    assert response.status_code == 400 and "{nom}" in response.json()["error"]


@pytest.mark.django_db(transaction=True)
def test_a_dispatch_sends_the_campaigns_message_in_its_language(orange_stub, settings):
    settings.DISPATCH_SEND_CONCURRENCY = 4
    program = make_program(name="EPI Senegal")
    campaign = make_campaign(program=program, language="en")
    make_integration(program=program, channel="sms", config=orange_stub.config())
    card, = make_issued_cards(campaign=campaign, count=1, with_png=False, first_name="Moussa",
                              last_name="Diop")
    client = api_client(make_api_key(program=program))
    client.put(url(campaign, "/en"), {"body": "{first_name} {last_name}: {programme_name} "
                                              "card {card_code} of {issue_date}"}, format="json")
    dispatch = make_dispatch(campaign=campaign, first_channel="sms", window_start=time(0),
                             window_end=time(0, 0), weekdays=list(range(7)))
    dispatch_start(dispatch=dispatch)
    work_until(dispatch_done(dispatch))
    text = orange_stub.sent[0]["outboundSMSTextMessage"]["message"]
    assert text == f"Moussa Diop: EPI Senegal card {card.code} of 17/05/2026"


@pytest.mark.django_db
def test_the_preview_links_to_this_server_with_the_campaigns_code(client, campaign, settings):
    settings.PUBLIC_BASE_URL = "https://cartes.sante.example.sn"
    sample = client.post(url(campaign, "/preview"), {"body": "{verification_url}"},
                         format="json").json()["sample"]
    assert sample.startswith(f"https://cartes.sante.example.sn/v/c/{campaign.prefix}-")
