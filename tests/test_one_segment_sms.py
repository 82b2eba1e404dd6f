"""One-segment SMS: `{card_link}` (the card page's short address) in the default texts keeps
every language's default SMS within one GSM-7 segment for a realistic person, programme and
server address, with room left for the opt-out hint; the preview counts the segments that
are actually sent."""

import pytest

from campaigns.models import Role
from distribution.card_messages import text_variables
from distribution.message_templates import DEFAULT_TEMPLATES, OPT_OUT_HINTS, render
from distribution.providers.orange_sms.segments import sms_segments
from tests.factories import (
    api_client,
    make_api_key,
    make_campaign,
    make_integration,
    make_issued_cards,
    make_program,
)

pytest_plugins = ["tests.stubs.fixtures"]

REALISTIC_BASE_URL = "https://cartes.sante.gouv.sn"


@pytest.fixture
def realistic(settings):
    settings.PUBLIC_BASE_URL = REALISTIC_BASE_URL
    return make_program(name="Programme Elargi de Vaccination")


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fr", "en", "wo"])
def test_the_default_sms_with_its_opt_out_hint_fits_one_gsm7_segment(realistic, language):
    campaign = make_campaign(program=realistic, language=language, prefix="PEV2026")
    card, = make_issued_cards(campaign=campaign, count=1, with_png=False,
                              first_name="Ndeye Fatou", last_name="Diallo")
    text = render(DEFAULT_TEMPLATES[language], text_variables(
        card=card, beneficiary=card.beneficiary, campaign=campaign, program=realistic))
    count = sms_segments(text)
    assert (count.encoding, count.segments) == ("GSM-7", 1)
    assert f"{REALISTIC_BASE_URL}/v/c/{card.code}" in text
    assert text.endswith(OPT_OUT_HINTS[language])


@pytest.mark.django_db
def test_the_card_link_opens_the_cards_page_verified_by_code(client, realistic):
    campaign = make_campaign(program=realistic)
    card, = make_issued_cards(campaign=campaign, count=1, with_png=False)
    link = text_variables(card=card, beneficiary=card.beneficiary, campaign=campaign,
                          program=realistic)["card_link"]
    response = client.get(link.removeprefix(REALISTIC_BASE_URL))
    assert response.status_code == 200 and card.code in response.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("body", [DEFAULT_TEMPLATES["fr"],
                                  "Bonjour {first_name}, votre carte {card_code} : "
                                  "{verification_url}"])
def test_the_previews_segments_are_those_sent(realistic, orange_stub, body):
    campaign = make_campaign(program=realistic, prefix="PEV2026")
    make_integration(program=realistic, channel="sms", config=orange_stub.config())
    card, = make_issued_cards(campaign=campaign, count=1, with_png=False,
                              first_name="Ndeye Fatou")
    client = api_client(make_api_key(program=realistic, role=Role.ADMIN))
    client.put(f"/api/campaigns/{campaign.pk}/message-templates/fr", {"body": body},
               format="json")
    preview = client.post(f"/api/campaigns/{campaign.pk}/message-templates/preview",
                          {"body": body}, format="json").json()
    response = client.post("/api/dhis2/send-card", {
        "enrollment_id": card.beneficiary.external_id, "channel": "sms"}, format="json")
    assert response.status_code == 201
    sent = sms_segments(orange_stub.sent[0]["outboundSMSTextMessage"]["message"])
    assert preview["segments_total"] == sent.segments
    assert preview["segments"] == sent.segments
