"""The whole operator journey in headless Chromium, in French: log in, create a campaign with
the 5-step wizard, import 1,000 beneficiaries, find the campaign in the list.

Playwright's sync API runs an event loop in this thread, and Django refuses ORM calls while
one runs; so the database is prepared before the browser starts and checked after it stops.
"""

from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from campaigns.models import Campaign, Role
from tests.browser import csp_violations, launch_chromium, log_in
from tests.factories import make_program, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BENEFICIARIES_CSV = Path(__file__).resolve().parent / "data" / "beneficiaries-1000.csv"


def click_and_wait(page, locator):
    with page.expect_navigation():
        locator.click()


def test_operator_creates_a_campaign_in_french_and_imports_1000_beneficiaries(live_server):
    program = make_program(name="PEV Dakar", quota=50_000)
    make_user(program=program, role=Role.OPERATOR, username="awa", password="terrain-2025")

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(locale="fr-FR", viewport={"width": 1280, "height": 900})
        page.set_default_timeout(30_000)
        violations = csp_violations(page)

        log_in(page, live_server.url, "awa", language="fr")
        expect(page.locator("h1")).to_have_text("Tableau de bord")

        click_and_wait(page, page.get_by_role("link", name="Nouvelle campagne").first)
        expect(page.locator(".panel h2")).to_have_text("Informations générales")

        # Next with nothing typed: each error beside its field, in French.
        click_and_wait(page, page.get_by_role("button", name="Suivant"))
        expect(page.locator("#field-name .field-error")).to_have_text("Ce champ est obligatoire.")
        page.fill("#id_name", "Rougeole Pikine 2025")
        page.select_option("#id_campaign_type", "vaccination")
        page.fill("#id_prefix", "pik-rou")
        expect(page.locator("#id_prefix")).to_have_value("PIK-ROU")
        page.fill("#id_description", "Suivi de la vaccination rougeole")
        click_and_wait(page, page.get_by_role("button", name="Suivant"))

        expect(page.locator(".panel h2")).to_have_text("Langue")
        page.get_by_label("Français", exact=True).check()
        click_and_wait(page, page.get_by_role("button", name="Suivant"))

        expect(page.locator(".panel h2")).to_have_text("Modèle")
        expect(page.locator("input[name=template_id][value=vaccination]")).to_be_checked()
        click_and_wait(page, page.get_by_role("button", name="Suivant"))

        expect(page.locator(".panel h2")).to_have_text("Résolution")
        page.locator("label[for=id_dpi_1]").click()
        expect(page.locator("#id_dpi_1")).to_be_checked()
        click_and_wait(page, page.get_by_role("button", name="Suivant"))

        expect(page.locator(".panel h2")).to_have_text("Vérification")
        expect(page.locator("#final-warning")).to_contain_text("définitifs")
        expect(page.locator(".summary")).to_contain_text("PIK-ROU")
        click_and_wait(page, page.get_by_role("button", name="Créer la campagne"))

        expect(page.locator("h1")).to_have_text("Rougeole Pikine 2025")
        page.set_input_files("#id_file", str(BENEFICIARIES_CSV))
        click_and_wait(page, page.get_by_role("button", name="Importer", exact=True))
        expect(page.locator(".messages")).to_contain_text("1\xa0000 bénéficiaires ajoutés")
        expect(page.locator("#beneficiary-count")).to_have_text("1\xa0000")

        click_and_wait(page, page.get_by_role("link", name="Campagnes", exact=True))
        row = page.locator("tr", has_text="Rougeole Pikine 2025")
        expect(row).to_contain_text("PIK-ROU")
        expect(row.locator("td[data-label='Bénéficiaires']")).to_have_text("1\xa0000")
        browser.close()
    # Every page of the journey ran under the production Content-Security-Policy.
    assert violations == []

    campaign = Campaign.objects.get(prefix="PIK-ROU")
    assert (campaign.program_id, campaign.language, campaign.dpi) == (program.pk, "fr", 450)
    assert campaign.beneficiaries.count() == 1000


def test_wizard_works_with_javascript_disabled(live_server):
    program = make_program(quota=1_000)
    make_user(program=program, role=Role.OPERATOR, username="moussa", password="sans-js-2025")

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(java_script_enabled=False, locale="en-GB")
        page = context.new_page()
        page.set_default_timeout(30_000)
        log_in(page, live_server.url, "moussa", password="sans-js-2025")

        page.goto(f"{live_server.url}/campaigns/new/")
        page.fill("#id_name", "Nets Thiès")
        page.select_option("#id_campaign_type", "mild")
        page.fill("#id_prefix", "ths-net")
        click_and_wait(page, page.get_by_role("button", name="Next"))
        # Back then Next again: what was typed is still there.
        click_and_wait(page, page.get_by_role("button", name="Back"))
        expect(page.locator("#id_prefix")).to_have_value("THS-NET")
        for _ in range(4):
            click_and_wait(page, page.get_by_role("button", name="Next"))
        expect(page.locator(".summary")).to_contain_text("Bed nets (MILD)")
        click_and_wait(page, page.get_by_role("button", name="Create the campaign"))
        expect(page.locator("h1")).to_have_text("Nets Thiès")
        browser.close()

    campaign = Campaign.objects.get(prefix="THS-NET")
    assert (campaign.campaign_type, campaign.template_id, campaign.dpi) == ("mild", "mild", 300)
