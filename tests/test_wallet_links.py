"""A card's Wallet links outside the dispatch: the public short link and logo addresses, the
default Wallet texts, and the operators' CSV (scoped like every read of people)."""

import csv
import io

import jwt
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import CampaignType, Role
from cards.revocation import card_revoke
from cards.studio_services import program_logo_set
from distribution import wallet_links
from distribution.card_messages import text_variables
from distribution.message_templates import OPT_OUT_HINTS, WALLET_TEMPLATES, render
from distribution.models import WalletLink
from distribution.providers.google_wallet.adapter import SAVE_URL
from distribution.providers.google_wallet.payload import card_extras
from distribution.providers.orange_sms.segments import sms_segments
from tests.factories import (
    api_client,
    client_for,
    make_api_key,
    make_campaign,
    make_integration,
    make_issued_cards,
    make_program,
    make_user,
    tiny_png,
)

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.stubs.fixtures"]

REALISTIC_BASE_URL = "https://cartes.sante.gouv.sn"


def link_made(card, url=None):
    """The card's short-link token, with a save link recorded (as a Wallet step leaves it)."""
    token = wallet_links.tokens_for(card_ids=[card.pk])[card.pk]
    wallet_links.record_links(made=[(card.pk, url or SAVE_URL + f"jwt-{card.code}",
                                     f"3388.{card.code}")])
    return token


def csv_rows(response):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize("language", ["fr", "en", "wo"])
def test_the_default_wallet_text_fits_one_gsm7_segment_and_ends_with_the_opt_out_hint(
        settings, language):
    settings.PUBLIC_BASE_URL = REALISTIC_BASE_URL
    program = make_program(name="Programme Elargi de Vaccination")
    campaign = make_campaign(program=program, language=language, prefix="PEV2026")
    card, = make_issued_cards(campaign=campaign, count=1, with_png=False,
                              first_name="Ndeye Fatou")
    variables = text_variables(card=card, beneficiary=card.beneficiary, campaign=campaign,
                               program=program)
    token = wallet_links.tokens_for(card_ids=[card.pk])[card.pk]
    variables["wallet_link"] = wallet_links.short_link(token)
    text = render(WALLET_TEMPLATES[language], variables)
    count = sms_segments(text)
    assert (count.encoding, count.segments) == ("GSM-7", 1)
    assert f"{REALISTIC_BASE_URL}/w/{token}" in text
    assert text.endswith(OPT_OUT_HINTS[language])


def test_a_short_link_redirects_to_the_stored_save_link(client, campaign):
    card, = make_issued_cards(campaign=campaign, count=1, with_png=False)
    token = link_made(card)
    response = client.get(f"/w/{token}")
    assert response.status_code == 302
    assert response["Location"] == SAVE_URL + f"jwt-{card.code}"


def test_a_short_link_shows_nothing_but_the_redirect(client, campaign):
    card, = make_issued_cards(campaign=campaign, count=1, with_png=False, first_name="Zeinabou")
    response = client.get(f"/w/{link_made(card)}")
    body = response.content.decode()
    assert "Zeinabou" not in body and campaign.name not in body
    assert campaign.program.name not in body and card.code not in body


def test_an_unknown_short_link_is_a_plain_404(client):
    response = client.get("/w/AAAAAAAAAAAA")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/plain")


def test_a_revoked_cards_short_link_is_a_404(client, campaign):
    card, = make_issued_cards(campaign=campaign, count=1, with_png=False)
    token = link_made(card)
    card_revoke(card=card, reason="lost")
    assert client.get(f"/w/{token}").status_code == 404


def test_a_save_link_not_recorded_is_made_when_the_short_link_is_opened(
        client, campaign, google_stub):
    make_integration(program=campaign.program, channel="wallet", config=google_stub.config())
    card, = make_issued_cards(campaign=campaign, count=1, with_png=False)
    # As a sender that stopped after the carrier's answer leaves it: a token, no save link.
    token = wallet_links.tokens_for(card_ids=[card.pk])[card.pk]
    response = client.get(f"/w/{token}")
    assert response.status_code == 302
    claims = jwt.decode(response["Location"].removeprefix(SAVE_URL), google_stub.public_key_pem,
                        algorithms=["RS256"], audience="google")
    obj, = claims["payload"]["genericObjects"]
    assert obj["id"] == f"{google_stub.issuer_id}.{card.code}"
    assert WalletLink.objects.get(card=card).save_url == response["Location"]


def test_the_logo_address_serves_the_logo_only_and_changes_with_it(client, program):
    program_logo_set(program=program, image_file=SimpleUploadedFile("logo.png", tiny_png()))
    address = wallet_links.logo_url(program)
    response = client.get(address.removeprefix("http://testserver"))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    program_logo_set(program=program,
                     image_file=SimpleUploadedFile("logo.png", tiny_png("#FF0000")))
    assert wallet_links.logo_url(program) != address
    assert client.get(address.removeprefix("http://testserver")).status_code == 404


def test_a_guessed_logo_address_is_a_404(client, program):
    program_logo_set(program=program, image_file=SimpleUploadedFile("logo.png", tiny_png()))
    assert client.get(f"/w/logo/{program.pk}-0123456789abcdef01234567.png").status_code == 404


def test_a_sensitive_campaigns_pass_shows_no_logo(program):
    program_logo_set(program=program, image_file=SimpleUploadedFile("logo.png", tiny_png()))
    for campaign_type, has_logo in ((CampaignType.VACCINATION, True), (CampaignType.HIV, False)):
        campaign = make_campaign(program=program, campaign_type=campaign_type)
        card, = make_issued_cards(campaign=campaign, count=1, with_png=False)
        details = card_extras(card=card, beneficiary=card.beneficiary, campaign=campaign,
                              program=program, images=None)["card"]
        assert bool(details.logo_url) is has_logo


def test_a_sensitive_campaigns_pass_is_titled_with_the_neutral_label(program):
    program.name = "Programme national de lutte contre le VIH"
    program.save(update_fields=["name"])
    campaign = make_campaign(program=program, campaign_type=CampaignType.HIV)
    card, = make_issued_cards(campaign=campaign, count=1, with_png=False)
    details = card_extras(card=card, beneficiary=card.beneficiary, campaign=campaign,
                          program=program, images=None)["card"]
    assert "VIH" not in details.title and "VIH" not in details.subtitle


def test_the_csv_lists_each_cards_links(campaign, settings):
    settings.PUBLIC_BASE_URL = REALISTIC_BASE_URL
    made, waiting = make_issued_cards(campaign=campaign, count=2, with_png=False)
    make_issued_cards(campaign=campaign, count=1, with_png=False)  # no Wallet link yet
    made_token = link_made(made)
    waiting_token = wallet_links.tokens_for(card_ids=[waiting.pk])[waiting.pk]
    client = api_client(make_api_key(program=campaign.program, role=Role.VIEWER))
    response = client.get(f"/api/campaigns/{campaign.pk}/wallet-links.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    header, *rows = csv_rows(response)
    assert header == ["card_code", "enrollment_id", "short_link", "save_link", "made_at"]
    assert [row[:4] for row in rows] == [
        [made.code, made.beneficiary.external_id, f"{REALISTIC_BASE_URL}/w/{made_token}",
         SAVE_URL + f"jwt-{made.code}"],
        [waiting.code, waiting.beneficiary.external_id,
         f"{REALISTIC_BASE_URL}/w/{waiting_token}", ""],
    ]
    assert rows[0][4] and rows[1][4] == ""


def test_another_programs_campaign_csv_is_a_404(campaign):
    client = api_client(make_api_key(program=make_program()))
    assert client.get(f"/api/campaigns/{campaign.pk}/wallet-links.csv").status_code == 404


def test_a_sensitive_campaigns_csv_needs_the_grant(program):
    campaign = make_campaign(program=program, campaign_type=CampaignType.HIV)
    card, = make_issued_cards(campaign=campaign, count=1, with_png=False)
    link_made(card)
    url = f"/api/campaigns/{campaign.pk}/wallet-links.csv"
    assert api_client(make_api_key(program=program)).get(url).status_code == 403
    granted = api_client(make_api_key(program=program, can_view_sensitive=True)).get(url)
    assert granted.status_code == 200 and card.code in b"".join(granted.streaming_content).decode()


def test_the_distribution_page_links_the_csv_once_wallet_is_set_up(campaign, google_stub):
    user = make_user(program=campaign.program, role=Role.OPERATOR)
    page = f"/campaigns/{campaign.pk}/distribution/"
    link = f"/api/campaigns/{campaign.pk}/wallet-links.csv"
    assert link not in client_for(user, campaign.program).get(page).content.decode()
    make_integration(program=campaign.program, channel="wallet", config=google_stub.config())
    html = client_for(user, campaign.program).get(page).content.decode()
    assert link in html
    assert client_for(user, campaign.program).get(link).status_code == 200
