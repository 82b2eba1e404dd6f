"""Card Studio without HTML: a campaign's design over the API and in the browser, its real
rendered preview, its validation (draft -> preview_ready) and the program's logo."""

import html as html_lib
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from PIL import Image

from campaigns import studio
from campaigns.lifecycle import CampaignConflict
from campaigns.models import Campaign, CampaignType, Job, Role
from cards.studio_services import (
    campaign_design_update,
    campaign_design_validate,
    program_logo_set,
)
from tests.browser import launch_chromium, log_in
from tests.factories import (
    api_client,
    make_api_key,
    make_campaign,
    make_job,
    make_program,
    make_user,
)

pytestmark = pytest.mark.django_db

CARD_RATIO = 53.98 / 85.6


@pytest.fixture
def program():
    return make_program(name="PEV Dakar")


@pytest.fixture
def campaign(program):
    return make_campaign(program=program, campaign_type=CampaignType.VACCINATION)


@pytest.fixture(autouse=True)
def in_english():
    """Services called outside a request speak the active language; French by default."""
    with translation.override("en"):
        yield


def english_api(raw_key):
    client = api_client(raw_key)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def api(program):
    return english_api(make_api_key(program=program, role=Role.OPERATOR))


def browser(user, language="en"):
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


@pytest.fixture
def operator_page(program):
    return browser(make_user(program=program, role=Role.OPERATOR))


def png_image(response):
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG"
    return image.convert("RGB")


def has_colour(image, hex_colour):
    wanted = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return any(colour == wanted for _, colour in image.getcolors(maxcolors=1 << 20))


def preview_url(campaign, **params):
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"/api/campaigns/{campaign.pk}/preview.png" + (f"?{query}" if query else "")


def image_sources(page):
    return [html_lib.unescape(src) for src in re.findall(r'<img[^>]*\ssrc="([^"]+)"', page)]


def image_bytes(size=(1200, 800), colour="#0E7490", image_format="JPEG"):
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, image_format)
    return buffer.getvalue()


# The rendered preview -------------------------------------------------------------------


def test_preview_is_a_png_of_a_card_front_above_its_back(api, campaign):
    image = png_image(api.get(preview_url(campaign)))

    # Two ID-1 cards stacked, with a small margin around them.
    assert image.height == pytest.approx(2 * image.width * CARD_RATIO, rel=0.05)
    assert image.width >= 600


def test_preview_draws_the_colour_asked_for_and_changes_with_it(api, campaign):
    teal = png_image(api.get(preview_url(campaign, primary_colour="%230E7490")))
    red = png_image(api.get(preview_url(campaign, primary_colour="%23B91C1C")))

    assert has_colour(teal, "#0E7490")
    assert has_colour(red, "#B91C1C")
    assert not has_colour(teal, "#B91C1C")


def test_preview_accepts_a_colour_without_its_hash(api, campaign):
    assert has_colour(png_image(api.get(preview_url(campaign, primary_colour="B91C1C"))), "#B91C1C")


def test_preview_of_unsaved_options_saves_nothing(api, campaign):
    api.get(preview_url(campaign, primary_colour="%23B91C1C", title="Carte PEV"))

    campaign.refresh_from_db()
    assert campaign.template_options == {}


def test_preview_refuses_an_unknown_colour_naming_the_field(api, campaign):
    response = api.get(preview_url(campaign, primary_colour="orange"))

    assert response.status_code == 400
    assert "primary_colour" in response.json()["fields"]
    assert "primary_colour" in response.json()["error"]


def test_preview_refuses_an_unknown_field_naming_it(api, campaign):
    response = api.get(preview_url(campaign, show_fields="sex,shoe_size"))

    assert response.status_code == 400
    assert "shoe_size" in response.json()["fields"]["show_fields"][0]


def test_an_unchanged_preview_answers_304_to_its_etag(api, campaign):
    first = api.get(preview_url(campaign))

    again = api.get(preview_url(campaign), HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304


def test_a_saved_design_gives_the_preview_a_new_etag(api, campaign):
    before = api.get(preview_url(campaign))["ETag"]
    api.put(f"/api/campaigns/{campaign.pk}/design",
            {"template_options": {"primary_colour": "#B91C1C"}}, format="json")

    assert api.get(preview_url(campaign))["ETag"] != before


# Design over the API ---------------------------------------------------------------------


def test_design_shows_saved_options_effective_values_and_fields(api, campaign):
    campaign.template_options = {"primary_colour": "#B91C1C"}
    campaign.save()

    body = api.get(f"/api/campaigns/{campaign.pk}/design/").json()

    assert body["template_id"] == "vaccination"
    assert body["template_options"] == {"primary_colour": "#B91C1C"}
    assert body["design"]["primary_colour"] == "#B91C1C"
    assert body["design"]["accent_colour"] == studio.TEMPLATES["vaccination"].accent_colour
    assert body["design"]["title"] == "Carte de vaccination"
    assert {"key": "vaccine", "label": "Vaccin"} in body["optional_fields"]
    assert body["preview_url"].startswith(f"/api/campaigns/{campaign.pk}/preview.png?")


def test_put_design_saves_cleaned_options(api, campaign):
    response = api.put(
        f"/api/campaigns/{campaign.pk}/design",
        {"template_options": {"primary_colour": "#b91c1c", "title": "  Carte  PEV ",
                              "show_fields": ["vaccine"], "logo": False}},
        format="json",
    )

    assert response.status_code == 200, response.content
    campaign.refresh_from_db()
    assert campaign.template_options == {
        "primary_colour": "#B91C1C", "title": "Carte PEV", "show_fields": ["vaccine"],
        "logo": False,
    }


def test_put_design_refuses_a_bad_colour_naming_the_option(api, campaign):
    response = api.put(f"/api/campaigns/{campaign.pk}/design",
                       {"template_options": {"accent_colour": "orange"}}, format="json")

    assert response.status_code == 400
    assert "accent_colour" in response.json()["fields"]["template_options"]
    assert response.json()["error"].startswith("template_options.accent_colour:")


def test_put_design_refuses_an_unknown_template(api, campaign):
    response = api.put(f"/api/campaigns/{campaign.pk}/design",
                       {"template_id": "passport", "template_options": {}}, format="json")

    assert response.status_code == 400
    assert "template_id" in response.json()["fields"]


def test_put_design_can_switch_the_template(api, campaign):
    response = api.put(f"/api/campaigns/{campaign.pk}/design",
                       {"template_id": "lab", "template_options": {"show_fields": ["tests"]}},
                       format="json")

    assert response.status_code == 200
    campaign.refresh_from_db()
    assert (campaign.template_id, campaign.template_options) == ("lab", {"show_fields": ["tests"]})


def test_validate_moves_a_draft_to_preview_ready(api, campaign):
    response = api.post(f"/api/campaigns/{campaign.pk}/design/validate")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "preview_ready"
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PREVIEW_READY


def test_a_design_change_after_validation_moves_back_to_draft(api, campaign):
    api.post(f"/api/campaigns/{campaign.pk}/design/validate")

    response = api.put(f"/api/campaigns/{campaign.pk}/design",
                       {"template_options": {"title": "Carte PEV"}}, format="json")

    assert response.json()["status"] == "draft"
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_saving_the_same_design_again_keeps_it_validated(campaign):
    campaign = campaign_design_update(campaign=campaign, template_options={"title": "Carte PEV"})
    campaign = campaign_design_validate(campaign=campaign)

    campaign = campaign_design_update(campaign=campaign, template_options={"title": "Carte PEV"})

    assert campaign.status == Campaign.Status.PREVIEW_READY


def test_validate_is_refused_while_a_job_generates(api, campaign):
    job = make_job(campaign=campaign, status=Job.Status.GENERATING)

    response = api.post(f"/api/campaigns/{campaign.pk}/design/validate")

    assert response.status_code == 409
    assert f"job {job.pk}" in response.json()["error"]


def test_design_cannot_change_while_a_job_generates(campaign):
    make_job(campaign=campaign, status=Job.Status.PROCESSING)

    with pytest.raises(CampaignConflict, match="is running"):
        campaign_design_update(campaign=campaign, template_options={"title": "Autre"})


def test_validate_is_refused_for_an_archived_campaign(api, campaign):
    api.post(f"/api/campaigns/{campaign.pk}/archive")

    response = api.post(f"/api/campaigns/{campaign.pk}/design/validate")

    assert response.status_code == 409
    assert "archived" in response.json()["error"]


def test_viewer_reads_the_design_but_cannot_change_or_validate_it(program, campaign):
    viewer = english_api(make_api_key(program=program, role=Role.VIEWER))

    assert viewer.get(f"/api/campaigns/{campaign.pk}/design").status_code == 200
    assert viewer.get(preview_url(campaign)).status_code == 200
    put = viewer.put(f"/api/campaigns/{campaign.pk}/design",
                     {"template_options": {"title": "X"}}, format="json")
    assert put.status_code == 403
    assert viewer.post(f"/api/campaigns/{campaign.pk}/design/validate").status_code == 403
    campaign.refresh_from_db()
    assert (campaign.template_options, campaign.status) == ({}, Campaign.Status.DRAFT)


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "preview.png"), ("get", "design"), ("put", "design"), ("post", "design/validate")],
)
def test_another_programs_campaign_answers_404(api, method, path):
    stranger = make_campaign(program=make_program())

    response = getattr(api, method)(f"/api/campaigns/{stranger.pk}/{path}",
                                    {"template_options": {}}, format="json")

    assert response.status_code == 404
    stranger.refresh_from_db()
    assert stranger.status == Campaign.Status.DRAFT


def test_templates_lists_the_eleven_with_titles_and_optional_fields(api):
    body = api.get("/api/templates/").json()

    templates = {t["id"]: t for t in body["data"]}
    assert set(templates) == set(CampaignType.values)
    lab = templates["lab"]
    assert lab["type"] == "lab"
    assert lab["titles"] == {"fr": "Carte de laboratoire", "en": "Laboratory card",
                             "wo": "Kàrtu laboratoire"}
    assert {"key": "tests", "labels": {"fr": "Analyses", "en": "Tests", "wo": "Analyse yi"}} in (
        lab["optional_fields"]
    )
    assert png_image(api.get(lab["preview_url"] + "?lang=en")).width > 0


def test_the_schema_documents_the_card_studio_routes(api):
    paths = api.get("/api/schema/?format=json").json()["paths"]

    assert "put" in paths["/api/campaigns/{id}/design/"]
    assert "post" in paths["/api/campaigns/{id}/design/validate/"]
    assert "image/png" in paths["/api/campaigns/{id}/preview.png/"]["get"]["responses"]["200"][
        "content"
    ]
    assert "get" in paths["/api/templates/"]


# The program's logo -----------------------------------------------------------------------


def test_logo_is_re_encoded_as_a_png_of_at_most_600_pixels(program):
    program_logo_set(program=program, image_file=SimpleUploadedFile("logo.jpg", image_bytes()))

    program.refresh_from_db()
    with program.logo.open("rb") as handle:
        logo = Image.open(handle)
        assert (logo.format, logo.size) == ("PNG", (600, 400))


def test_logo_that_is_not_an_image_is_refused_with_a_clear_error(program):
    with pytest.raises(ValidationError) as error:
        program_logo_set(program=program,
                         image_file=SimpleUploadedFile("logo.png", b"<svg>not a png</svg>"))

    assert error.value.message_dict["logo"] == [
        "The logo must be a PNG or JPEG image; this file is not one."
    ]
    program.refresh_from_db()
    assert not program.logo


def test_logo_in_another_image_format_is_refused(program):
    buffer = io.BytesIO()
    Image.new("RGB", (50, 50), "red").save(buffer, "GIF")

    with pytest.raises(ValidationError, match="PNG or JPEG"):
        program_logo_set(program=program,
                         image_file=SimpleUploadedFile("logo.gif", buffer.getvalue()))


def test_logo_over_one_megabyte_is_refused(program):
    big = SimpleUploadedFile("logo.png", b"\x89PNG" + b"0" * (1024 * 1024))

    with pytest.raises(ValidationError, match="at most 1 MB"):
        program_logo_set(program=program, image_file=big)


def test_a_new_logo_changes_the_campaign_preview(api, program, campaign):
    before = api.get(preview_url(campaign))["ETag"]

    red_logo = image_bytes(colour="#B91C1C", image_format="PNG")
    program_logo_set(program=program, image_file=SimpleUploadedFile("l.png", red_logo))

    after = api.get(preview_url(campaign))
    assert after["ETag"] != before
    assert has_colour(png_image(after), "#B91C1C")


def test_admin_uploads_the_logo_from_the_design_page(program, campaign):
    page = browser(make_user(program=program, role=Role.ADMIN))

    response = page.post(f"/campaigns/{campaign.pk}/design/logo/",
                         {"logo": SimpleUploadedFile("logo.jpg", image_bytes((300, 300)))})

    assert response.status_code == 302
    program.refresh_from_db()
    assert program.logo.name.endswith(".png")


def test_design_page_shows_a_clear_error_for_a_logo_that_is_not_an_image(program, campaign):
    page = browser(make_user(program=program, role=Role.ADMIN))

    response = page.post(f"/campaigns/{campaign.pk}/design/logo/",
                         {"logo": SimpleUploadedFile("logo.png", b"GIF89a nonsense")})

    assert response.status_code == 200
    assert "The logo must be a PNG or JPEG image; this file is not one." in (
        response.content.decode()
    )


def test_operator_cannot_change_the_programs_logo(operator_page, program, campaign):
    response = operator_page.post(f"/campaigns/{campaign.pk}/design/logo/",
                                  {"logo": SimpleUploadedFile("logo.jpg", image_bytes())})

    assert response.status_code == 403
    program.refresh_from_db()
    assert not program.logo


# The design page ------------------------------------------------------------------------


def test_design_page_shows_the_form_and_the_preview_image(operator_page, campaign):
    response = operator_page.get(f"/campaigns/{campaign.pk}/design/")

    body = response.content.decode()
    assert response.status_code == 200
    assert 'type="color"' in body
    assert 'name="show_fields"' in body
    preview = [src for src in image_sources(body) if "/preview.png" in src]
    assert len(preview) == 1
    assert png_image(operator_page.get(preview[0])).width > 0


def test_preview_button_re_renders_the_page_with_unsaved_values_without_js(
    operator_page, campaign
):
    response = operator_page.post(f"/campaigns/{campaign.pk}/design/", {
        "action": "preview", "template_id": "vaccination", "fields_for": "vaccination",
        "primary_colour": "#b91c1c", "accent_colour": "#f59e0b", "title": "Carte PEV",
        "show_fields": ["vaccine"], "logo": "on",
    })

    body = response.content.decode()
    assert response.status_code == 200
    assert "unsaved changes" in body
    (src,) = [src for src in image_sources(body) if "/preview.png" in src]
    query = parse_qs(urlsplit(src).query, keep_blank_values=True)
    assert query["primary_colour"] == ["#B91C1C"]
    assert query["show_fields"] == ["vaccine"]
    assert has_colour(png_image(operator_page.get(src)), "#B91C1C")
    campaign.refresh_from_db()
    assert campaign.template_options == {}


def test_switching_template_on_the_page_shows_its_own_fields(operator_page, campaign):
    response = operator_page.post(f"/campaigns/{campaign.pk}/design/", {
        "action": "preview", "template_id": "lab", "fields_for": "vaccination",
        "primary_colour": "#0e7490", "accent_colour": "#f59e0b", "show_fields": ["vaccine"],
    })

    body = response.content.decode()
    assert 'value="tests"' in body
    assert 'value="vaccine"' not in body
    assert 'value="#6d28d9"' in body  # the lab template's own colour


def test_save_button_stores_only_what_differs_from_the_template(operator_page, campaign):
    response = operator_page.post(f"/campaigns/{campaign.pk}/design/", {
        "action": "save", "template_id": "vaccination", "fields_for": "vaccination",
        "primary_colour": "#0e7490", "accent_colour": "#22c55e", "title": "",
        "show_fields": ["sex", "expiry", "mpi_id", "vaccine", "doses"], "logo": "on",
    })

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.template_options == {"accent_colour": "#22C55E"}


def test_validate_button_saves_validates_and_returns_to_the_campaign(operator_page, campaign):
    response = operator_page.post(f"/campaigns/{campaign.pk}/design/", {
        "action": "validate", "template_id": "vaccination", "fields_for": "vaccination",
        "primary_colour": "#0e7490", "accent_colour": "#f59e0b", "title": "Carte PEV",
        "show_fields": ["vaccine"], "logo": "on",
    })

    assert response.status_code == 302
    assert response["Location"] == f"/campaigns/{campaign.pk}/"
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PREVIEW_READY
    assert campaign.template_options == {"title": "Carte PEV", "show_fields": ["vaccine"]}


def test_design_page_shows_a_bad_colour_beside_its_field(operator_page, campaign):
    response = operator_page.post(f"/campaigns/{campaign.pk}/design/", {
        "action": "save", "template_id": "vaccination", "fields_for": "vaccination",
        "primary_colour": "teal", "accent_colour": "#f59e0b",
    })

    body = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'id="field-primary_colour".*?class="field-error"', body, re.S)
    campaign.refresh_from_db()
    assert campaign.template_options == {}


def test_design_page_refuses_a_title_too_long_in_the_users_language(program, campaign):
    page = browser(make_user(program=program, role=Role.OPERATOR), language="fr")

    response = page.post(f"/campaigns/{campaign.pk}/design/", {
        "action": "save", "template_id": "vaccination", "fields_for": "vaccination",
        "primary_colour": "#0e7490", "accent_colour": "#f59e0b", "title": "x" * 41,
    })

    assert "40 caractères au maximum." in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.template_options == {}


def test_viewer_sees_the_design_page_without_save_buttons_and_cannot_post(program, campaign):
    page = browser(make_user(program=program, role=Role.VIEWER))

    body = page.get(f"/campaigns/{campaign.pk}/design/").content.decode()
    response = page.post(f"/campaigns/{campaign.pk}/design/", {
        "action": "save", "template_id": "vaccination", "primary_colour": "#b91c1c",
        "accent_colour": "#f59e0b",
    })

    assert 'value="save"' not in body
    assert response.status_code == 403


def test_design_page_of_another_program_answers_404(operator_page):
    stranger = make_campaign(program=make_program())

    assert operator_page.get(f"/campaigns/{stranger.pk}/design/").status_code == 404


def test_design_page_speaks_french(program, campaign):
    page = browser(make_user(program=program, role=Role.OPERATOR), language="fr")

    body = page.get(f"/campaigns/{campaign.pk}/design/").content.decode()

    assert "Valider le design" in body
    assert "Couleur principale" in body


# The campaign page and the wizard ---------------------------------------------------------


def test_campaign_page_shows_the_preview_and_links_to_the_design_page(operator_page, campaign):
    body = operator_page.get(f"/campaigns/{campaign.pk}/").content.decode()

    design_url = f"/campaigns/{campaign.pk}/design/"
    assert f'href="{design_url}">Customise the card design' in body
    assert re.search(rf'data-check="preview".*?<a href="{design_url}">', body, re.S)
    preview = [src for src in image_sources(body) if "/preview.png" in src]
    assert png_image(operator_page.get(preview[0])).width > 0


def test_wizard_template_step_shows_a_rendered_preview_of_each_template(operator_page):
    operator_page.post("/campaigns/new/general/", {
        "name": "Rougeole", "campaign_type": "mild", "prefix": "ROU-25", "action": "next",
    })
    operator_page.post("/campaigns/new/language/", {"language": "wo", "action": "next"})

    body = operator_page.get("/campaigns/new/template/").content.decode()

    previews = [src for src in image_sources(body) if "/preview.png" in src]
    assert len(previews) == len(CampaignType.values)
    assert all(src.endswith("?lang=wo") for src in previews)
    for src in previews[:2]:
        image = png_image(operator_page.get(src))
        assert image.height == pytest.approx(image.width * CARD_RATIO, rel=0.08)


def test_template_preview_of_an_unknown_template_answers_404(operator_page):
    assert operator_page.get("/cards/templates/passport/preview.png").status_code == 404


# In a real browser ----------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_preview_follows_the_colour_picker_live_in_chromium(live_server):
    from playwright.sync_api import expect, sync_playwright

    program = make_program(name="PEV Dakar")
    make_user(program=program, role=Role.OPERATOR, username="awa", password="terrain-2025")
    campaign = make_campaign(program=program)

    with sync_playwright() as playwright:
        browser_ = launch_chromium(playwright)
        page = browser_.new_page(locale="en-GB")
        page.set_default_timeout(30_000)
        log_in(page, live_server.url, "awa")

        page.goto(f"{live_server.url}/campaigns/{campaign.pk}/design/")
        preview = page.locator("#design-preview")
        page.wait_for_function("document.getElementById('design-preview').naturalWidth > 0")
        expect(page.get_by_role("button", name="Preview", exact=True)).to_be_hidden()

        page.locator("#id_primary_colour").fill("#b91c1c")
        expect(preview).to_have_attribute("src", re.compile(r"^blob:"))
        expect(page.locator("#preview-state")).to_have_text("Preview of your unsaved changes.")
        expect(page.locator("#preview-error")).to_be_hidden()

        with page.expect_navigation():
            page.get_by_role("button", name="Save design").click()
        expect(page.locator(".messages")).to_contain_text("The card design was saved.")
        browser_.close()

    campaign.refresh_from_db()
    assert campaign.template_options == {"primary_colour": "#B91C1C"}
