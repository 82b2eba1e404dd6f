"""No public surface names a sensitive campaign's condition: the card page, the portal's
registry, the texts sent with a card, Wallet passes and the printed card's title show the
neutral label "Health programme" (fr/en/wo) and no campaign name. The same in a real browser,
from a generated card's QR: test_sensitive_browser.py."""

import json
import re
from datetime import date, time
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from campaigns import studio
from campaigns.models import CampaignType
from cards.issuing import cards_assign
from cards.tokens import CAMPAIGN_TYPE_CODES, card_token_decode
from distribution.card_messages import outbound_message
from distribution.dispatch.runs import dispatch_start
from distribution.message_templates import template_body
from distribution.providers.google_wallet.adapter import GoogleWalletChannel
from tests.dispatch_helpers import dispatch_done, work_until
from tests.factories import (
    api_client,
    make_api_key,
    make_beneficiary,
    make_campaign,
    make_card,
    make_dispatch,
    make_integration,
    make_issued_cards,
    make_job,
    make_program,
)
from verification.registry import registry_for

pytest_plugins = ["tests.stubs.fixtures"]

PROGRAM = "Division de lutte contre le sida et les IST"
CAMPAIGN = "Suivi ARV Pikine 2026"
NEUTRAL = {"fr": "Programme de santé", "en": "Health programme", "wo": "Porogaraamu wér-gi-yaram"}
# Words that would tell a reader what the holder is treated for.
# Whole words: a signed token or a card code (random letters) may hold "hiv" by chance.
CONDITION = re.compile(r"\b(?:VIH|HIV|SIDA|AIDS|ARV)\b|antir[ée]tro", re.IGNORECASE)


def _hiv_campaign(language="fr", *, program_name="Ministère de la Santé"):
    return make_campaign(program=make_program(name=program_name), campaign_type=CampaignType.HIV,
                         name=CAMPAIGN, language=language)


def _type_labels(html):
    found = re.search(r'<script id="type-labels" type="application/json">(.*?)</script>', html)
    return json.loads(found.group(1))


# Card tokens ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_issued_cards_of_an_hiv_campaign_carry_the_neutral_type():
    campaign = _hiv_campaign()
    (card,) = cards_assign(job=make_job(campaign=campaign),
                           beneficiaries=[make_beneficiary(campaign=campaign)])

    assert card_token_decode(card.token)[0].campaign_type == "health"


@pytest.mark.django_db
def test_issued_cards_of_an_ordinary_campaign_keep_their_type():
    campaign = make_campaign(program=make_program(), campaign_type=CampaignType.NUTRITION)
    (card,) = cards_assign(job=make_job(campaign=campaign),
                           beneficiaries=[make_beneficiary(campaign=campaign)])

    assert card_token_decode(card.token)[0].campaign_type == "nutrition"


# The online card page --------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fr", "en", "wo"])
def test_card_page_labels_old_hiv_and_neutral_tokens_with_the_neutral_label(language):
    # make_card signs the campaign's own type: a card issued before the neutral type.
    card = make_card(campaign=_hiv_campaign(language))

    labels = _type_labels(Client().get(f"/v/c/{card.code}").content.decode())

    assert labels["hiv"] == labels["health"] == NEUTRAL[language]


@pytest.mark.django_db
def test_card_page_of_an_hiv_card_names_no_condition_and_no_campaign():
    card = make_card(campaign=_hiv_campaign())

    html = Client().get(f"/v/c/{card.code}").content.decode()

    assert 'data-verdict="valid"' in html
    assert CAMPAIGN not in html
    # Type codes are keys of the labels' JSON; no label or text names the condition.
    assert not CONDITION.search(html.replace('"hiv":', ""))


@pytest.mark.django_db
def test_card_page_hides_the_name_of_a_campaign_flagged_sensitive():
    campaign = make_campaign(program=make_program(), campaign_type=CampaignType.LAB,
                             name="Dépistage tuberculose Thiès", sensitive=True)
    card = make_card(campaign=campaign)

    html = Client().get(f"/v/c/{card.code}").content.decode()

    assert "tuberculose" not in html
    assert 'data-verdict="valid"' in html


# The offline portal ------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["fr", "en", "wo"])
def test_portal_labels_every_token_type_and_no_type_names_the_condition(language):
    source = (Path(settings.BASE_DIR) / "static/verification/portal/portal.js").read_text()
    neutral = re.search(r"var NEUTRAL = \{(.*?)\};", source, re.DOTALL).group(1)
    block = re.search(language + r": \{.*?types: \{(.*?)\}", source, re.DOTALL).group(1)
    labels = dict(re.findall(r"(\w+): ('[^']*'|NEUTRAL\.\w+)", block))

    assert set(labels) == set(CAMPAIGN_TYPE_CODES)
    assert labels["hiv"] == labels["health"] == f"NEUTRAL.{language}"
    assert f"{language}: '{NEUTRAL[language]}'" in neutral
    assert not any(CONDITION.search(label) for label in labels.values())


@pytest.mark.django_db
def test_registry_of_an_hiv_campaign_names_no_campaign_and_no_condition():
    campaign = _hiv_campaign()
    make_card(campaign=campaign)

    text = json.dumps(registry_for(campaign=campaign), ensure_ascii=False)

    assert CAMPAIGN not in text
    assert not CONDITION.search(text)


# Texts sent with a card ------------------------------------------------------------------


def _sms_text(campaign, card):
    return outbound_message(
        channel="sms", card=card, beneficiary=card.beneficiary, campaign=campaign,
        program=campaign.program, to="+221770000001", body=template_body(campaign=campaign),
        key="test",
    ).text


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fr", "en", "wo"])
def test_default_text_of_an_hiv_campaign_shows_the_neutral_label(language):
    campaign = _hiv_campaign(language, program_name=PROGRAM)
    card = make_card(campaign=campaign)

    text = _sms_text(campaign, card)

    assert NEUTRAL[language] in text
    assert PROGRAM not in text and CAMPAIGN not in text
    assert not CONDITION.search(text)


@pytest.mark.django_db
def test_default_text_of_an_ordinary_campaign_names_its_program():
    campaign = make_campaign(program=make_program(name="PEV Dakar"), language="fr")
    card = make_card(campaign=campaign)

    assert "votre carte PEV Dakar" in _sms_text(campaign, card)


@pytest.mark.django_db
def test_the_text_preview_of_an_hiv_campaign_shows_the_neutral_label():
    campaign = _hiv_campaign(program_name=PROGRAM)
    client = api_client(make_api_key(program=campaign.program, can_view_sensitive=True))

    response = client.post(f"/api/campaigns/{campaign.pk}/message-templates/preview",
                           {"body": "Carte {programme_name}"}, format="json")

    assert response.json()["sample"] == "Carte Programme de santé"


@pytest.mark.django_db(transaction=True)
def test_a_dispatch_of_an_hiv_campaign_sends_the_neutral_label(orange_stub, settings):
    settings.DISPATCH_SEND_CONCURRENCY = 4
    campaign = _hiv_campaign(program_name=PROGRAM)
    make_integration(program=campaign.program, channel="sms", config=orange_stub.config())
    make_issued_cards(campaign=campaign, count=1, with_png=False, first_name="Moussa")
    dispatch = make_dispatch(campaign=campaign, first_channel="sms", window_start=time(0),
                             window_end=time(0, 0), weekdays=list(range(7)))

    dispatch_start(dispatch=dispatch)
    work_until(dispatch_done(dispatch))

    text = orange_stub.sent[0]["outboundSMSTextMessage"]["message"]
    assert text.startswith("Bonjour Moussa, votre carte Programme de santé : ")
    assert not CONDITION.search(text)


# Google Wallet passes ---------------------------------------------------------------------

WALLET_CONFIG = {"issuer_id": "3388000000012345678", "class_suffix": "beneficiary_card"}


def _pass(campaign, card):
    message = outbound_message(
        channel="wallet", card=card, beneficiary=card.beneficiary, campaign=campaign,
        program=campaign.program, to="", body=template_body(campaign=campaign), key="test",
    )
    return GoogleWalletChannel(WALLET_CONFIG).pass_object(message)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fr", "en", "wo"])
def test_wallet_pass_of_an_hiv_campaign_shows_the_neutral_label(language):
    campaign = _hiv_campaign(language)
    card = make_card(campaign=campaign)

    wallet_pass = _pass(campaign, card)

    assert wallet_pass["subheader"]["defaultValue"]["value"] == NEUTRAL[language]
    text = json.dumps(wallet_pass, ensure_ascii=False)
    assert CAMPAIGN not in text
    assert not CONDITION.search(text)


@pytest.mark.django_db
def test_wallet_pass_of_an_ordinary_campaign_shows_its_name():
    campaign = make_campaign(program=make_program(), name="Rougeole Dakar 2026")
    card = make_card(campaign=campaign, expires_on=date(2027, 1, 1))

    assert _pass(campaign, card)["subheader"]["defaultValue"]["value"] == "Rougeole Dakar 2026"


# The printed card -------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["fr", "en", "wo"])
def test_the_hiv_templates_default_title_and_purpose_name_no_condition(language):
    design = studio.card_design(template_id="hiv", language=language, options={})

    assert not CONDITION.search(design.title)
    assert not CONDITION.search(studio.TEMPLATES["hiv"].purpose[language])
