"""The campaign page lists each beneficiary's card with Send and Revoke buttons."""

import pytest

from campaigns.models import Role
from cards.models import Card
from tests.factories import make_beneficiary, make_campaign, make_card, make_program, make_user

pytestmark = pytest.mark.django_db


def logged_in(client, program, role=Role.OPERATOR):
    client.force_login(make_user(program=program, role=role))
    return client


def test_campaign_page_shows_each_beneficiarys_card_with_revoke_and_send(client):
    program = make_program()
    campaign = make_campaign(program=program)
    card = make_card(campaign=campaign, beneficiary=make_beneficiary(campaign=campaign))
    page = logged_in(client, program).get(f"/campaigns/{campaign.pk}/").content.decode()
    assert card.code in page
    assert f"/cards/{card.code}/revoke" in page
    assert f"/campaigns/{campaign.pk}/beneficiaries/{card.beneficiary_id}/send/" in page


def test_revoking_from_the_campaign_page_revokes_the_card(client):
    program = make_program()
    campaign = make_campaign(program=program)
    card = make_card(campaign=campaign, beneficiary=make_beneficiary(campaign=campaign))
    response = logged_in(client, program).post(
        f"/cards/{card.code}/revoke", {"reason": "lost", "next": f"/campaigns/{campaign.pk}/"}
    )
    assert response.status_code == 302
    assert Card.objects.get(pk=card.pk).revoked_reason == "lost"


def test_viewers_see_cards_but_no_revoke_button(client):
    program = make_program()
    campaign = make_campaign(program=program)
    card = make_card(campaign=campaign, beneficiary=make_beneficiary(campaign=campaign))
    page = logged_in(client, program, Role.VIEWER).get(f"/campaigns/{campaign.pk}/")
    assert card.code in page.content.decode()
    assert "/revoke" not in page.content.decode()


def test_campaign_page_links_design_distribution_and_dhis2(client):
    program = make_program()
    campaign = make_campaign(program=program)
    page = logged_in(client, program).get(f"/campaigns/{campaign.pk}/").content.decode()
    for path in ("design/", "distribution/", "dhis2/"):
        assert f"/campaigns/{campaign.pk}/{path}" in page
