"""The distribution page in headless Chromium: an operator starts a dispatch of a few cards
against the Orange stub from the page, and the send log fills in without a reload (the page
refetches the log API as the run's counters move over the WebSocket)."""

from datetime import time as dtime

import pytest
from playwright.sync_api import expect, sync_playwright

from campaigns.models import Role
from distribution.models import Dispatch, Message
from tests.browser import csp_violations, launch_chromium, log_in
from tests.factories import (
    make_campaign,
    make_dispatch,
    make_integration,
    make_issued_cards,
    make_program,
    make_user,
)
from tests.processes import asgi_server, start_worker, stop, wait_until

pytest_plugins = ["tests.stubs.fixtures"]
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CARDS = 5


def test_the_send_log_fills_in_during_a_dispatch_without_a_reload(orange, tmp_path):
    program = make_program(name="PEV Thiès")
    make_user(program=program, role=Role.OPERATOR, username="awa", password="terrain-2025")
    campaign = make_campaign(program=program, name="Rougeole Thiès")
    make_integration(program=program, channel="sms", config=orange.config())
    make_issued_cards(campaign=campaign, count=CARDS, with_png=False)
    # One SMS a second: the run lasts a few seconds, long enough to watch it from the page.
    dispatch = make_dispatch(campaign=campaign, first_channel="sms", rate_limit_per_second=1,
                             window_start=dtime(0, 0), window_end=dtime(0, 0),
                             weekdays=list(range(7)), retry_delays=[0])
    worker = start_worker("dispatch", "--with-scheduler", log_path=tmp_path / "worker.log")
    try:
        with asgi_server() as host, sync_playwright() as playwright:
            base = f"http://{host}"
            browser = launch_chromium(playwright)
            page = browser.new_page(locale="en-GB")
            page.set_default_timeout(20_000)
            violations = csp_violations(page)
            log_in(page, base, "awa")
            page.goto(f"{base}/campaigns/{campaign.pk}/distribution/")
            rows = page.locator("table.message-log tbody tr")
            expect(rows).to_have_count(0)
            expect(page.get_by_text("No message sent yet.")).to_be_visible()

            with page.expect_navigation():
                page.locator(f"#dispatch-{dispatch.pk} form[data-action=start] button").click()
            shown_at_start = rows.count()
            page.evaluate("window.notReloaded = true")

            expect(rows).to_have_count(CARDS, timeout=20_000)
            expect(page.locator(f"#dispatch-{dispatch.pk} [data-field=status]")).to_have_text(
                "Done", timeout=20_000)
            assert page.evaluate("window.notReloaded") is True
            expect(page.get_by_text("No message sent yet.")).to_be_hidden()
            first = rows.first.locator("td")
            expect(first).to_have_count(7)
            expect(first.nth(2)).to_have_text("SMS (Orange)")
            expect(first.nth(5).locator(".pill")).to_have_text("Sent")
            codes = sorted(rows.locator("td.mono:nth-child(2)").all_text_contents())
            browser.close()
    finally:
        stop(worker)
    wait_until(lambda: Dispatch.objects.get(pk=dispatch.pk).status == "done", timeout=10)
    assert shown_at_start < CARDS
    assert codes == sorted(Message.objects.filter(dispatch=dispatch).values_list(
        "card__code", flat=True))
    # The refresh (fetch to the API, DOM built in static JS) works under the CSP.
    assert violations == []
