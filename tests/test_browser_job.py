"""The job page in headless Chromium: an operator starts a generation from the campaign page
and watches it complete, live over the WebSocket (real ASGI server), or by polling when no
socket can open (the WSGI live server)."""

import pytest
from playwright.sync_api import expect, sync_playwright

from campaigns.models import Beneficiary, Job, Role
from tests.browser import csp_violations, launch_chromium, log_in
from tests.factories import make_campaign, make_program, make_user
from tests.processes import asgi_server, start_worker, stop

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def campaign_for_operator(cards):
    program = make_program(name="PEV Thiès")
    make_user(program=program, role=Role.OPERATOR, username="moussa", password="terrain-2025")
    # The round's vaccine and doses set once: the card data check has nothing to warn about.
    campaign = make_campaign(program=program, name="Rougeole Thiès",
                             template_options={"values": {"vaccine": "RR1", "doses": "1"}})
    Beneficiary.objects.bulk_create(
        Beneficiary(campaign=campaign, first_name=f"Moussa{i}", last_name="Fall",
                    date_of_birth="2017-01-02", sex="M", external_id=f"T{i:05d}")
        for i in range(cards)
    )
    return campaign


def generate_from_the_campaign_page(base_url, campaign_id):
    """Returns (the job page's final status text, whether the page opened a WebSocket)."""
    sockets = []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(locale="en-GB")
        page.set_default_timeout(120_000)
        page.on("websocket", lambda socket: sockets.append(socket.url))
        violations = csp_violations(page)
        log_in(page, base_url, "moussa")
        page.goto(f"{base_url}/campaigns/{campaign_id}/")
        with page.expect_navigation():
            page.get_by_role("button", name="Generate the cards").click()
        expect(page.locator("[data-field=status]")).to_have_text("Completed", timeout=120_000)
        expect(page.get_by_role("link", name="Print PDF")).to_be_visible()
        counts = page.locator("[data-field=counts]").text_content()
        browser.close()
    # The WebSocket (connect-src) and the progress bar (no inline style) work under the CSP.
    assert violations == []
    return counts, sockets


def test_the_job_page_follows_a_job_live_over_the_websocket(tmp_path):
    campaign = campaign_for_operator(120)
    worker = start_worker("cards", log_path=tmp_path / "worker.log")
    try:
        with asgi_server() as host:
            counts, sockets = generate_from_the_campaign_page(f"http://{host}", campaign.pk)
    finally:
        stop(worker)
    job = Job.objects.get(campaign=campaign)
    assert counts == "120 / 120"
    assert sockets == [f"ws://{host}/ws/jobs/{job.pk}"]


def test_the_job_page_falls_back_to_polling_without_a_websocket(live_server, tmp_path):
    campaign = campaign_for_operator(30)
    worker = start_worker("cards", log_path=tmp_path / "worker.log")
    try:
        counts, _ = generate_from_the_campaign_page(live_server.url, campaign.pk)
    finally:
        stop(worker)
    assert counts == "30 / 30"
    assert Job.objects.get(campaign=campaign).status == "completed"


def test_the_job_page_says_it_waits_for_a_worker_until_one_starts(live_server, tmp_path):
    from cards.generation import job_create

    campaign = campaign_for_operator(4)
    job = job_create(campaign=campaign)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(locale="en-GB")
        log_in(page, live_server.url, "moussa")
        page.goto(f"{live_server.url}/jobs/{job.pk}/")
        notice = page.locator("[data-field=no-worker]")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text("Waiting for a worker")
        worker = start_worker("cards", log_path=tmp_path / "worker.log")
        try:
            expect(page.locator("[data-field=status]")).to_have_text("Completed",
                                                                     timeout=60_000)
            expect(notice).to_be_hidden()
        finally:
            stop(worker)
        browser.close()
