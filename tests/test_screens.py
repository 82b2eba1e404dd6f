"""The screens in headless Chromium, in French (the default): the job's progress bar is drawn,
no page is wider than a 390 px phone, the header stays on one row at 1,366 px, and numbers
are grouped as French writes them."""

import pytest
from playwright.sync_api import sync_playwright

from campaigns.models import Role
from tests.browser import csp_violations, launch_chromium
from tests.factories import make_beneficiaries, make_campaign, make_job, make_program, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seeded():
    """A program with a campaign of long-named people and a job 40 % through. The database is
    filled first: Django refuses ORM calls inside Playwright."""
    program = make_program(name="Programme élargi de vaccination — Région de Thiès")
    make_user(program=program, role=Role.ADMIN, username="awa", password="terrain-2025")
    campaign = make_campaign(program=program, name="Rougeole et rubéole — Thiès, Mbour, Tivaouane")
    make_beneficiaries(campaign=campaign, count=30, first_name="Ramatoulaye Aminata Bineta",
                       last_name="OUÉDRAOGO-N'GUESSAN DIALLO")
    job = make_job(campaign=campaign, status="generating", total_cards=12_000,
                   cards_generated=4_800, progress=40, eta_seconds=12)
    return campaign, job


@pytest.fixture
def browse(live_server, seeded):
    """Yields open(path, width) -> a logged-in French Chromium page `width` px wide, and the
    CSP violations seen."""
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900})
        page = context.new_page()
        page.set_default_timeout(30_000)
        violations = csp_violations(page)
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "awa")
        page.fill("#id_password", "terrain-2025")
        with page.expect_navigation():
            page.locator("form:has(#id_username) button[type=submit]").click()

        def open_page(path, width=1366):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{live_server.url}{path}")
            return page

        yield open_page, violations
        browser.close()


def test_the_job_page_draws_its_progress_bar_to_scale(browse, seeded):
    open_page, violations = browse
    _campaign, job = seeded

    page = open_page(f"/jobs/{job.pk}/")

    # 40 % of the track, once the width transition has run.
    page.wait_for_function(
        "() => { const t = document.querySelector('.progress').clientWidth;"
        " const b = document.querySelector('.progress-bar').getBoundingClientRect();"
        " return b.height >= 8 && Math.abs(b.width - 0.4 * t) < 2; }"
    )
    assert violations == []


@pytest.mark.parametrize(
    "path", ["/", "/campaigns/", "/campaigns/{campaign}/", "/jobs/{job}/", "/quota/"]
)
def test_no_page_scrolls_sideways_on_a_390_px_phone(browse, seeded, path):
    open_page, _violations = browse
    campaign, job = seeded

    page = open_page(path.format(campaign=campaign.pk, job=job.pk), width=390)

    # On failure, name what sticks out (tables scroll inside their own wrapper).
    wide = page.evaluate(
        "() => [...document.querySelectorAll('body *')].filter(e => !e.closest('.table-scroll')"
        " && e.getBoundingClientRect().right > 390).map(e => e.outerHTML.slice(0, 120))"
    )
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390, wide


def test_the_beneficiary_table_stays_inside_its_panel_on_a_laptop(browse, seeded):
    open_page, _violations = browse
    campaign, _job = seeded

    page = open_page(f"/campaigns/{campaign.pk}/")

    # Either the table fits its panel, or it scrolls inside its wrapper instead of spilling.
    contained = page.evaluate(
        "() => { const w = document.querySelector('#beneficiaries .table-scroll');"
        " const fits = w.querySelector('table').getBoundingClientRect().width <= w.clientWidth;"
        " return fits || ['auto', 'scroll'].includes(getComputedStyle(w).overflowX); }"
    )
    assert contained
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 1366


def test_the_french_header_stays_on_one_row_at_1366_px(browse):
    open_page, _violations = browse

    page = open_page("/campaigns/")

    # One row is the header's minimum height (3.75rem at 17 px); a second row adds ~40 px.
    height = page.eval_on_selector(".topbar-inner", "e => e.getBoundingClientRect().height")
    assert height < 70, height


def test_quota_and_job_counts_are_grouped_in_french(browse, seeded):
    open_page, _violations = browse
    _campaign, job = seeded

    quota = open_page("/").locator("[data-kpi=quota] .kpi-value").text_content()
    page = open_page(f"/jobs/{job.pk}/")
    page.wait_for_function("document.querySelector('.progress-bar').style.width === '40%'")
    counts = page.locator("[data-field=counts]").text_content()

    assert quota == "1\xa0000\xa0000"
    assert counts == "4\xa0800 / 12\xa0000"

