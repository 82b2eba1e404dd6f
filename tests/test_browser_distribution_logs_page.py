"""Distribution > Logs in headless Chromium (French, the default): filtering by channel and
paging keep the filters, and the rows refresh without a reload while a dispatch runs."""

import threading

import pytest
from django.db import connection
from playwright.sync_api import expect, sync_playwright

from campaigns.models import Role
from distribution.models import Dispatch
from tests.browser import csp_violations, launch_chromium
from tests.factories import (
    make_campaign,
    make_dispatch,
    make_issued_cards,
    make_message,
    make_program,
    make_user,
)
from tests.processes import asgi_server

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _logged_in(playwright, host):
    browser = launch_chromium(playwright)
    page = browser.new_page(locale="fr-FR")
    page.set_default_timeout(20_000)
    page.goto(f"http://{host}/login/")
    page.fill("#id_username", "awa")
    page.fill("#id_password", "terrain-2025")
    with page.expect_navigation():
        page.locator("form button[type=submit]").last.click()
    return browser, page


def _outside_the_event_loop(write):
    """Runs a database write in a thread of its own: Playwright's sync API keeps an event loop
    running in this one, where Django refuses synchronous queries."""
    def run():
        try:
            write()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()


@pytest.fixture
def program():
    program = make_program(name="PEV Thiès")
    make_user(program=program, role=Role.VIEWER, username="awa", password="terrain-2025")
    return program


def test_the_logs_page_filters_by_channel_and_pages_with_the_filter(program):
    measles = make_campaign(program=program, name="Rougeole")
    polio = make_campaign(program=program, name="Polio")
    cards = make_issued_cards(campaign=measles, count=52, with_png=False)
    for card in cards:
        make_message(card=card, channel="sms")
    for card in make_issued_cards(campaign=polio, count=3, with_png=False, phone_from=500):
        make_message(card=card, channel="whatsapp")
    with asgi_server() as host, sync_playwright() as playwright:
        browser, page = _logged_in(playwright, host)
        violations = csp_violations(page)
        page.goto(f"http://{host}/distribution/logs/")
        rows = page.locator("table.program-log tbody tr")
        expect(rows).to_have_count(50)

        page.select_option("#log-channel", "whatsapp")
        with page.expect_navigation():
            page.locator("form.log-filters button[type=submit]").click()
        expect(rows).to_have_count(3)
        expect(rows.first.locator("td").nth(1)).to_have_text("Polio")

        page.select_option("#log-channel", "sms")
        with page.expect_navigation():
            page.locator("form.log-filters button[type=submit]").click()
        expect(rows).to_have_count(50)
        with page.expect_navigation():
            page.locator("nav.pager a").last.click()
        expect(rows).to_have_count(2)
        assert "channel=sms" in page.url and "page=2" in page.url
        expect(page.locator("#log-channel")).to_have_value("sms")
        # The oldest two SMS, each with its enrollment id.
        shown = sorted(rows.locator("td:nth-child(3)").all_text_contents())
        browser.close()
    assert shown == sorted(c.beneficiary.external_id for c in cards[:2])
    assert violations == []


def test_the_rows_refresh_without_a_reload_while_a_dispatch_runs(program):
    measles = make_campaign(program=program, name="Rougeole")
    first, second = make_issued_cards(campaign=measles, count=2, with_png=False)
    make_message(card=first, channel="sms")
    run = make_dispatch(campaign=measles)
    Dispatch.objects.filter(pk=run.pk).update(status=Dispatch.Status.RUNNING)
    with asgi_server() as host, sync_playwright() as playwright:
        browser, page = _logged_in(playwright, host)
        violations = csp_violations(page)
        page.goto(f"http://{host}/distribution/logs/?channel=sms")
        rows = page.locator("table.program-log tbody tr")
        expect(rows).to_have_count(1)
        expect(page.locator("[data-log-live]")).to_be_visible()
        page.evaluate("window.notReloaded = true")
        _outside_the_event_loop(lambda: (
            make_message(card=second, channel="sms", dispatch=run),
            make_message(card=second, channel="whatsapp", dispatch=run)))
        expect(rows).to_have_count(2, timeout=10_000)
        expect(rows.first.locator("td").nth(2)).to_have_text(second.beneficiary.external_id)
        assert page.evaluate("window.notReloaded") is True
        _outside_the_event_loop(lambda: Dispatch.objects.filter(pk=run.pk).update(
            status=Dispatch.Status.DONE))
        expect(page.locator("[data-log-live]")).to_be_hidden(timeout=10_000)
        browser.close()
    assert violations == []
