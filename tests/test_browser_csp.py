"""The pages that bring their own scripts and styles still work in Chromium under the
production Content-Security-Policy: Swagger UI (drf-spectacular-sidecar), the Django admin and
Card Studio's live preview (a blob: image and an inline <style> with its nonce)."""

import re

import pytest
from playwright.sync_api import expect, sync_playwright

from campaigns.models import Role
from tests.browser import csp_violations, launch_chromium
from tests.factories import make_campaign, make_program, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def visit(live_server):
    """Yields (go(path) in a Chromium page logged in as a superuser, the violations seen, a
    campaign). The database is filled first: Django refuses ORM calls inside Playwright."""
    program = make_program(name="PEV Dakar")
    make_user(program=program, role=Role.ADMIN, username="awa", password="terrain-2025",
              is_staff=True, is_superuser=True)
    campaign = make_campaign(program=program)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(locale="en-GB")
        page.set_default_timeout(30_000)
        violations = csp_violations(page)
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", "awa")
        page.fill("#id_password", "terrain-2025")
        with page.expect_navigation():
            page.locator("input[type=submit]").click()

        def go(path):
            page.goto(f"{live_server.url}{path}")
            return page

        yield go, violations, campaign
        browser.close()


def test_swagger_ui_renders_the_api_under_the_policy(visit):
    go, violations, _campaign = visit

    page = go("/api/docs/")

    expect(page.locator(".opblock").first).to_be_visible()
    page.locator(".opblock-summary").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    assert violations == []


def test_the_admin_works_under_the_policy(visit):
    go, violations, campaign = visit

    page = go(f"/admin/campaigns/program/{campaign.program_id}/change/")

    expect(page.locator("#content h1")).to_be_visible()
    go("/admin/campaigns/campaign/add/")
    expect(page.locator("select").first).to_be_visible()
    assert violations == []


def test_card_studio_previews_live_under_the_policy(visit):
    go, violations, campaign = visit

    page = go(f"/campaigns/{campaign.pk}/design/")
    page.wait_for_function("document.getElementById('design-preview').naturalWidth > 0")
    page.locator("#id_primary_colour").fill("#b91c1c")

    expect(page.locator("#design-preview")).to_have_attribute("src", re.compile(r"^blob:"))
    # The inline <style> applied: the colour pickers sit in their grid.
    assert page.eval_on_selector(".design-colours", "e => getComputedStyle(e).display") == "grid"
    assert violations == []
