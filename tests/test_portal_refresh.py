"""The campaign's offline portal built on demand from today's statuses (issue 13, point 3):
`GET /api/campaigns/<id>/portal.zip`, the campaign page's "Download the offline portal"."""

import zipfile
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from campaigns.models import Role
from campaigns.services import quota_balance
from cards.issuing import cards_assign
from cards.revocation import card_revoke
from cards.signing_keys import program_public_keys
from tests.browser import allowlisted_context, launch_chromium
from tests.factories import (
    api_client,
    make_api_key,
    make_beneficiary,
    make_campaign,
    make_card,
    make_job,
    make_program,
    make_user,
)
from tests.portal_helpers import portal_archive
from verification.portal import portal_build, portal_status_list
from verification.status_list import status_list_decode, status_of

pytestmark = pytest.mark.django_db


def _campaign_with_a_job(program=None, **campaign_fields):
    program = program or make_program()
    campaign = make_campaign(program=program, **campaign_fields)
    people = [make_beneficiary(campaign=campaign) for _ in range(2)]
    job = make_job(campaign=campaign)
    return campaign, job, cards_assign(job=job, beneficiaries=people)


def _download(campaign, role=Role.OPERATOR):
    client = api_client(make_api_key(program=campaign.program, role=role))
    return client.get(f"/api/campaigns/{campaign.pk}/portal.zip")


def _status_list(campaign):
    """(header, records) of a freshly downloaded portal, its signature checked."""
    archive = portal_archive(_download(campaign))
    return status_list_decode(portal_status_list(archive),
                              program_public_keys(program=campaign.program))


def test_a_card_revoked_after_the_job_is_revoked_in_the_refreshed_portal(tmp_path):
    campaign, job, (kept, revoked) = _campaign_with_a_job()
    portal_build(job=job, workdir=str(tmp_path))  # the job's own portal, before revoking
    card_revoke(card=revoked, reason="lost")

    _header, records = _status_list(campaign)

    assert status_of(records, revoked.code)["s"] == "revoked"
    assert status_of(records, kept.code)["s"] == "valid"


def test_the_refreshed_portal_takes_a_higher_sequence_than_the_jobs(tmp_path):
    campaign, job, _cards = _campaign_with_a_job()
    _kind, _name, path = portal_build(job=job, workdir=str(tmp_path))
    jobs = status_list_decode(portal_status_list(zipfile.ZipFile(path)))[0]

    header, _records = _status_list(campaign)

    assert header["sequence"] > jobs["sequence"]


def test_the_portal_holds_cards_of_every_job():
    campaign, _job, cards = _campaign_with_a_job()
    later = make_card(campaign=campaign, job=make_job(campaign=campaign))

    header, records = _status_list(campaign)

    assert all(status_of(records, c.code) for c in [*cards, later])
    assert header["count"] == 3
    assert "job" not in header


def test_the_portal_carries_its_status_time_in_the_programs_zone():
    nairobi = ZoneInfo("Africa/Nairobi")  # UTC+3: a UTC time would be 3 hours off
    campaign, _job, _cards = _campaign_with_a_job(
        program=make_program(timezone_name="Africa/Nairobi")
    )
    before = datetime.now(nairobi).replace(second=0, microsecond=0)

    header, _records = _status_list(campaign)

    status_at = datetime.fromisoformat(header["status_at"]).replace(tzinfo=nairobi)
    assert 0 <= (status_at - before).total_seconds() <= 60


def test_the_portal_page_prints_the_status_time_in_its_header():
    campaign, _job, _cards = _campaign_with_a_job()

    archive = portal_archive(_download(campaign))

    assert 'id="portal-status"' in archive.read("index.html").decode()
    script = archive.read("portal.js").decode()
    assert "Statut au {date}" in script and "Status as of {date}" in script
    assert "header.status_at" in script


def test_the_download_is_a_private_attachment_named_after_the_campaign():
    campaign, _job, _cards = _campaign_with_a_job(prefix="DKR-ROR")

    response = _download(campaign)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Disposition"].startswith('attachment; filename="DKR-ROR-portal-')


def test_refreshing_the_portal_charges_no_quota_and_starts_no_job():
    campaign, _job, _cards = _campaign_with_a_job()
    balance, jobs = quota_balance(program=campaign.program), campaign.jobs.count()

    assert _download(campaign).status_code == 200

    assert quota_balance(program=campaign.program) == balance
    assert campaign.jobs.count() == jobs


def test_a_viewer_may_download_it():
    campaign, _job, _cards = _campaign_with_a_job()

    assert _download(campaign, role=Role.VIEWER).status_code == 200


def test_an_ungranted_member_gets_403_on_a_sensitive_campaigns_portal(client):
    campaign, _job, _cards = _campaign_with_a_job(campaign_type="hiv")
    client.force_login(make_user(program=campaign.program, role=Role.OPERATOR))

    response = client.get(f"/api/campaigns/{campaign.pk}/portal.zip")

    assert response.status_code == 403


def test_the_campaign_page_links_to_the_fresh_portal(client):
    campaign, _job, _cards = _campaign_with_a_job()
    client.force_login(make_user(program=campaign.program, role=Role.VIEWER))

    page = client.get(f"/campaigns/{campaign.pk}/").content.decode()

    assert f'href="/api/campaigns/{campaign.pk}/portal.zip"' in page


def test_the_campaign_page_offers_no_portal_to_the_ungranted(client):
    campaign, _job, _cards = _campaign_with_a_job(campaign_type="hiv")
    client.force_login(make_user(program=campaign.program, role=Role.OPERATOR))

    page = client.get(f"/campaigns/{campaign.pk}/").content.decode()

    assert "portal.zip" not in page


# In Chromium, from file:// with the network off ---------------------------------------------

MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
             "septembre", "octobre", "novembre", "décembre")


def _opened_offline(response, tmp_path, monkeypatch):
    """The downloaded portal unzipped and opened in headless Chromium, network refused."""
    from playwright.sync_api import sync_playwright

    folder = tmp_path / "portal"
    portal_archive(response).extractall(folder)
    # Playwright's sync API runs an event loop in this thread; the database work is done.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    playwright = sync_playwright().start()
    chromium = launch_chromium(playwright)
    page = allowlisted_context(chromium, "file://").new_page()
    page.goto((folder / "index.html").as_uri())
    page.wait_for_selector("body[data-ready]")
    return page, lambda: (chromium.close(), playwright.stop())


@pytest.mark.browser
def test_the_refreshed_portal_prints_its_status_time_and_the_revocation(tmp_path, monkeypatch):
    campaign, _job, (_kept, revoked) = _campaign_with_a_job(language="fr")
    card_revoke(card=revoked, reason="lost")
    response = _download(campaign)
    page, close = _opened_offline(response, tmp_path, monkeypatch)
    try:
        status_at = page.evaluate(
            "CampaignIDVerify.decodeStatusList(window.CAMPAIGNID_STATUS_LIST).header.status_at"
        )
        day, clock = datetime.fromisoformat(status_at), status_at[11:16]
        french = f"Statut au {day.day} {MONTHS_FR[day.month - 1]} {day.year} {clock}"
        assert page.text_content("#portal-status") == french
        page.click('[data-lang="en"]')
        assert page.text_content("#portal-status").startswith("Status as of ")

        page.fill("#query", revoked.code)
        page.click("#check")
        page.wait_for_selector("#result[data-checked]")
        assert page.get_attribute("#result", "data-verdict") == "revoked"
    finally:
        close()


def test_the_schema_documents_the_portal_as_a_zip():
    client = api_client(make_api_key(program=make_program()))
    schema = client.get("/api/schema/?format=json").json()

    responses = schema["paths"]["/api/campaigns/{id}/portal.zip/"]["get"]["responses"]
    assert "application/zip" in responses["200"]["content"]
