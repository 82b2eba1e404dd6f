"""Card validity and the MPI-ID choice live on the Card Studio page: the design saves the
validity and shows its expiry on the preview; generation jobs follow the design's MPI choice."""

import datetime

import pytest
from django.test import Client
from django.utils import translation

from campaigns import studio
from campaigns.models import Campaign, CampaignType, Job
from cards.forms import CardDesignForm
from tests.factories import (
    api_client,
    make_api_key,
    make_beneficiary,
    make_campaign,
    make_program,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def program():
    return make_program(name="PEV Dakar")


@pytest.fixture
def campaign(program):
    campaign = make_campaign(program=program, campaign_type=CampaignType.VACCINATION)
    make_beneficiary(campaign=campaign)
    return campaign


@pytest.fixture
def client(program):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(make_user(program=program))
    return client


def design_post(client, campaign, *, action="save", mpi=True, **changes):
    """The design form as the page sends it, with the saved design and `changes`."""
    initial = CardDesignForm.initial_for(campaign)
    shown = [key for key in initial["show_fields"] if key != "mpi_id"]
    if mpi:
        shown.append("mpi_id")
    data = {key: value for key, value in initial.items() if value is not None}
    data.update(show_fields=shown, logo="on", action=action, **changes)
    if not initial["logo"]:
        data.pop("logo")
    return client.post(f"/campaigns/{campaign.pk}/design/", data)


def test_validity_is_saved_from_the_design_page_and_shown_on_the_preview(client, campaign):
    response = design_post(client, campaign, card_validity_months="18")
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.card_validity_months == 18
    page = client.get(f"/campaigns/{campaign.pk}/design/")
    assert page.context["form"]["card_validity_months"].value() == 18
    assert page.context["card_validity_months"] == 18
    # The sample card is issued on 15 January 2025: 18 months later.
    assert page.context["sample_expires_on"] == datetime.date(2026, 7, 15)
    assert 'name="card_validity_months"' in page.content.decode()


def test_an_empty_validity_means_no_expiry_row(client, campaign):
    Campaign.objects.filter(pk=campaign.pk).update(card_validity_months=12)
    campaign.refresh_from_db()
    design_post(client, campaign, card_validity_months="")
    campaign.refresh_from_db()
    assert campaign.card_validity_months is None
    page = client.get(f"/campaigns/{campaign.pk}/design/")
    assert page.context["sample_expires_on"] is None
    assert "Cards do not expire" in page.content.decode()


def test_an_unsaved_validity_is_previewed_and_bounds_are_checked(client, campaign):
    response = design_post(client, campaign, action="preview", card_validity_months="6")
    assert response.context["unsaved"]
    assert response.context["sample_expires_on"] == datetime.date(2025, 7, 15)
    assert "card_validity_months=6" in response.context["preview_url"]
    response = design_post(client, campaign, card_validity_months="241")
    assert response.status_code == 200
    assert response.context["form"].errors["card_validity_months"]
    campaign.refresh_from_db()
    assert campaign.card_validity_months is None


def test_the_preview_image_takes_an_unsaved_validity(client, campaign):
    url = f"/api/campaigns/{campaign.pk}/preview.png"
    assert client.get(url, {"card_validity_months": "12"}).status_code == 200
    assert client.get(url, {"card_validity_months": "abc"}).status_code == 400


def test_the_generation_form_has_no_mpi_checkbox(client, campaign):
    page = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'name="include_mpi_id"' not in page


@pytest.mark.parametrize("mpi", [True, False])
def test_a_job_started_from_the_page_follows_the_designs_mpi_choice(client, campaign, mpi):
    design_post(client, campaign, mpi=mpi)
    campaign.refresh_from_db()
    assert studio.prints_mpi_id(campaign) is mpi
    # An old form's box is ignored: the design decides.
    response = client.post(f"/campaigns/{campaign.pk}/generate/", {"include_mpi_id": "on"})
    job = Job.objects.get(campaign=campaign)
    assert response.status_code == 302
    assert job.include_mpi_id is mpi


@pytest.mark.parametrize("mpi", [True, False])
def test_the_api_default_follows_the_design(client, program, campaign, mpi):
    design_post(client, campaign, mpi=mpi)
    raw = make_api_key(program=program)
    response = api_client(raw).post(f"/api/campaigns/{campaign.pk}/jobs", {}, format="json")
    assert response.status_code in (201, 202), response.json()
    assert response.json()["include_mpi_id"] is mpi


def test_the_api_still_accepts_an_explicit_choice(client, program, campaign):
    design_post(client, campaign, mpi=True)
    raw = make_api_key(program=program)
    response = api_client(raw).post(
        f"/api/campaigns/{campaign.pk}/jobs", {"include_mpi_id": False}, format="json"
    )
    assert response.status_code in (201, 202), response.json()
    assert response.json()["include_mpi_id"] is False
