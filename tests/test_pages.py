"""Browser pages through Django's test client: access, dashboard, list, detail, import,
lifecycle buttons, the 5-step wizard and the three interface languages."""

import csv
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from campaigns.models import Beneficiary, Campaign, CampaignType, Role
from campaigns.services import membership_set
from campaigns.wizard import SESSION_KEY
from tests.factories import (
    make_beneficiary,
    make_campaign,
    make_card,
    make_message,
    make_program,
    make_user,
)

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent / "data"


def client_for(user, language="en"):
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


@pytest.fixture
def program():
    return make_program(name="PEV Dakar", quota=12345)


@pytest.fixture
def operator(program):
    return make_user(program=program, role=Role.OPERATOR)


@pytest.fixture
def client(operator):
    return client_for(operator)


def html(response):
    return response.content.decode()


def field_block(response, name):
    """The HTML of one form field's block (label, input, help, errors)."""
    match = re.search(
        rf'<div class="field[^"]*" id="field-{name}">(.*?)</div>', html(response), re.S
    )
    assert match, f"no field block for {name}"
    return match.group(1)


# Access -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/", "/campaigns/", "/campaigns/new/", "/campaigns/new/general/", "/campaigns/1/"]
)
def test_pages_redirect_anonymous_users_to_login(url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_login_form_logs_the_user_in_and_lands_on_the_dashboard(operator):
    client = Client()
    response = client.post("/login/", {"username": operator.username, "password": "pw-test-123"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_wrong_password_shows_an_error_on_the_login_page(operator):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post("/login/", {"username": operator.username, "password": "nope"})
    assert response.status_code == 200
    assert "Wrong username or password" in html(response)


def test_login_page_speaks_french_by_default():
    assert "Nom d'utilisateur" in html(Client().get("/login/"))


def test_logout_is_a_post_that_ends_the_session(client):
    response = client.post("/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_user_without_membership_is_refused():
    client = client_for(make_user())
    response = client.get("/")
    assert response.status_code == 403
    assert "not a member of any program" in html(response)


def test_program_switcher_shows_for_several_memberships_and_switches(operator):
    other = make_program(name="PNLP Kolda")
    membership_set(user=operator, program=other, role=Role.VIEWER)
    client = client_for(operator)
    assert 'name="program_id"' in html(client.get("/"))
    response = client.post("/program/", {"program_id": other.pk})
    assert response.status_code == 302
    assert client.session["program_id"] == other.pk
    assert "PNLP Kolda" in html(client.get("/"))


def test_program_switcher_refuses_a_program_the_user_is_not_member_of(client):
    stranger = make_program()
    response = client.post("/program/", {"program_id": stranger.pk})
    assert response.status_code == 403
    assert "program_id" not in client.session


# Dashboard ----------------------------------------------------------------------------


def test_dashboard_shows_quota_balance_and_campaign_counts(client, program):
    make_campaign(program=program, status=Campaign.Status.GENERATING)
    make_campaign(program=program, status=Campaign.Status.COMPLETED)
    make_campaign(program=make_program(), status=Campaign.Status.COMPLETED)
    body = html(client.get("/"))
    assert re.search(r'data-kpi="quota".*?kpi-value">12,345<', body, re.S)
    assert re.search(r'data-kpi="campaigns".*?kpi-value">2<', body, re.S)
    assert re.search(r'data-kpi="in_progress".*?kpi-value">1<', body, re.S)
    assert re.search(r'data-kpi="cards_distributed".*?kpi-value">0<', body, re.S)


def test_dashboard_counts_each_card_that_reached_its_holder_once(client, program):
    campaign = make_campaign(program=program)
    twice_sent = make_card(campaign=campaign)
    make_message(card=twice_sent, status="delivered")
    make_message(card=twice_sent, channel="sms", status="read")
    make_message(card=make_card(campaign=campaign), status="sent")
    make_message(card=make_card(campaign=campaign), status="failed")
    make_message(card=make_card(campaign=make_campaign(program=make_program())), status="read")
    body = html(client.get("/"))
    assert re.search(r'data-kpi="cards_distributed".*?kpi-value">2<', body, re.S)


def test_dashboard_lists_recent_campaigns(client, program):
    make_campaign(program=program, name="Rougeole Pikine")
    assert "Rougeole Pikine" in html(client.get("/"))


# Campaign list ------------------------------------------------------------------------


def test_list_search_matches_name_and_prefix(client, program):
    make_campaign(program=program, name="Rougeole Pikine", prefix="PIK-ROU")
    make_campaign(program=program, name="MILD Thiès", prefix="THS-MILD")
    by_name = html(client.get("/campaigns/", {"q": "rougeole"}))
    assert "Rougeole Pikine" in by_name and "MILD Thiès" not in by_name
    by_prefix = html(client.get("/campaigns/", {"q": "ths-"}))
    assert "MILD Thiès" in by_prefix and "Rougeole Pikine" not in by_prefix


def test_list_filters_by_status_and_type(client, program):
    make_campaign(program=program, name="Draft vaccination")
    make_campaign(
        program=program,
        name="Done nets",
        campaign_type=CampaignType.MILD,
        status=Campaign.Status.COMPLETED,
    )
    by_status = html(client.get("/campaigns/", {"status": "completed"}))
    assert "Done nets" in by_status and "Draft vaccination" not in by_status
    by_type = html(client.get("/campaigns/", {"campaign_type": "vaccination"}))
    assert "Draft vaccination" in by_type and "Done nets" not in by_type


def test_list_hides_archived_campaigns_unless_asked(client, program):
    from campaigns.lifecycle import campaign_archive

    campaign_archive(campaign=make_campaign(program=program, name="Old round"))
    make_campaign(program=program, name="Current round")
    default = html(client.get("/campaigns/"))
    assert "Current round" in default and "Old round" not in default
    archived = html(client.get("/campaigns/", {"archived": "true"}))
    assert "Old round" in archived and "Current round" not in archived


def test_list_shows_a_type_icon_and_status_pill_per_campaign(client, program):
    make_campaign(program=program, campaign_type=CampaignType.HIV)
    body = html(client.get("/campaigns/"))
    assert "type-icon-hiv" in body
    assert 'data-status="draft"' in body


def test_list_never_shows_another_programs_campaigns(client):
    make_campaign(program=make_program(), name="Someone else's")
    assert "Someone else" not in html(client.get("/campaigns/"))


def test_empty_list_invites_to_create_a_campaign(client):
    body = html(client.get("/campaigns/"))
    assert "No campaign yet" in body
    assert 'href="/campaigns/new/"' in body


def test_unknown_filter_values_are_ignored(client, program):
    make_campaign(program=program, name="Still listed")
    response = client.get("/campaigns/", {"status": "bogus", "page": "x"})
    assert response.status_code == 200
    assert "Still listed" in html(response)


# Campaign detail ----------------------------------------------------------------------


def test_detail_of_another_programs_campaign_is_404(client):
    campaign = make_campaign(program=make_program())
    assert client.get(f"/campaigns/{campaign.pk}/").status_code == 404


def test_detail_of_a_deleted_campaign_is_404(client, program):
    from campaigns.lifecycle import campaign_soft_delete

    campaign = campaign_soft_delete(campaign=make_campaign(program=program))
    assert client.get(f"/campaigns/{campaign.pk}/").status_code == 404


def test_detail_shows_readiness_checklist_and_metrics(client, program):
    campaign = make_campaign(program=program)
    body = html(client.get(f"/campaigns/{campaign.pk}/"))
    assert 'data-check="beneficiaries" data-status="missing"' in body
    assert 'data-can-start="false"' in body
    assert re.search(r'data-kpi="beneficiaries".*?kpi-value"[^>]*>0<', body, re.S)


def test_ready_campaign_offers_to_generate_its_cards(client, program):
    campaign = make_campaign(program=program)
    make_beneficiary(campaign=campaign)
    body = html(client.get(f"/campaigns/{campaign.pk}/"))
    assert 'data-can-start="true"' in body
    assert f'action="/campaigns/{campaign.pk}/generate/"' in body


def test_detail_masks_phone_numbers(client, program):
    campaign = make_campaign(program=program)
    make_beneficiary(campaign=campaign, phone="+221771234567", first_name="Awa")
    body = html(client.get(f"/campaigns/{campaign.pk}/"))
    assert "Awa" in body
    assert "+22177***4567" in body
    assert "+221771234567" not in body


def test_hiv_beneficiaries_are_hidden_without_the_sensitive_right(client, program):
    campaign = make_campaign(program=program, campaign_type=CampaignType.HIV)
    make_beneficiary(campaign=campaign, first_name="Fatou")
    body = html(client.get(f"/campaigns/{campaign.pk}/"))
    assert "Fatou" not in body
    assert "sensitive health data" in body


def test_hiv_beneficiaries_are_shown_with_the_sensitive_right(program):
    user = make_user(program=program, can_view_sensitive=True)
    campaign = make_campaign(program=program, campaign_type=CampaignType.HIV)
    make_beneficiary(campaign=campaign, first_name="Fatou")
    assert "Fatou" in html(client_for(user).get(f"/campaigns/{campaign.pk}/"))


def test_archive_then_unarchive_buttons(client, program):
    campaign = make_campaign(program=program)
    response = client.post(f"/campaigns/{campaign.pk}/archive/")
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.archived_at is not None
    client.post(f"/campaigns/{campaign.pk}/unarchive/")
    campaign.refresh_from_db()
    assert campaign.archived_at is None


def test_delete_button_soft_deletes_and_returns_to_the_list(client, program):
    campaign = make_campaign(program=program)
    response = client.post(f"/campaigns/{campaign.pk}/delete/")
    assert response["Location"] == "/campaigns/"
    campaign.refresh_from_db()
    assert campaign.deleted_at is not None


def test_lifecycle_buttons_answer_404_for_another_program(client):
    campaign = make_campaign(program=make_program())
    assert client.post(f"/campaigns/{campaign.pk}/delete/").status_code == 404
    campaign.refresh_from_db()
    assert campaign.deleted_at is None


# Viewers ------------------------------------------------------------------------------


def test_viewer_sees_no_write_buttons(program):
    viewer = make_user(program=program, role=Role.VIEWER)
    campaign = make_campaign(program=program)
    make_beneficiary(campaign=campaign)
    client = client_for(viewer)
    detail = html(client.get(f"/campaigns/{campaign.pk}/"))
    for action in ("/archive/", "/delete/", "/import/", "/generate/"):
        assert action not in detail
    assert "/campaigns/new/" not in html(client.get("/campaigns/"))


@pytest.mark.parametrize("action", ["archive", "delete", "import"])
def test_viewer_posts_are_forbidden(program, action):
    viewer = make_user(program=program, role=Role.VIEWER)
    campaign = make_campaign(program=program)
    response = client_for(viewer).post(f"/campaigns/{campaign.pk}/{action}/")
    assert response.status_code == 403
    campaign.refresh_from_db()
    assert campaign.archived_at is None and campaign.deleted_at is None


def test_viewer_cannot_use_the_wizard(program):
    viewer = make_user(program=program, role=Role.VIEWER)
    client = client_for(viewer)
    assert client.get("/campaigns/new/general/").status_code == 403
    response = client.post("/campaigns/new/general/", general_step(prefix="VIEW-1"))
    assert response.status_code == 403


# CSV import ---------------------------------------------------------------------------


def upload(client, campaign, path):
    with open(path, "rb") as handle:
        return client.post(f"/campaigns/{campaign.pk}/import/", {"file": handle})


def test_import_of_the_dirty_file_lists_every_bad_line_and_imports_nothing(client, program):
    campaign = make_campaign(program=program)
    response = upload(client, campaign, DATA / "beneficiaries-dirty.csv")
    assert response.status_code == 200
    body = html(response)
    with open(DATA / "beneficiaries-dirty.errors.csv") as handle:
        expected = {int(row["line"]) for row in csv.DictReader(handle)}
    shown = {int(line) for line in re.findall(r'<tr data-line="(\d+)">', body)}
    assert shown == expected
    assert "Nothing was imported" in body
    assert Beneficiary.objects.filter(campaign=campaign).count() == 0


def test_import_of_the_clean_file_adds_every_beneficiary(client, program):
    campaign = make_campaign(program=program)
    response = upload(client, campaign, DATA / "beneficiaries-1000.csv")
    assert response.status_code == 302
    assert Beneficiary.objects.filter(campaign=campaign).count() == 1000
    body = html(client.get(response["Location"]))
    assert "1,000 beneficiaries added." in body


def test_import_without_a_file_names_the_field(client, program):
    campaign = make_campaign(program=program)
    response = client.post(f"/campaigns/{campaign.pk}/import/", {})
    assert "Choose a CSV file to import." in field_block(response, "file")


# Wizard -------------------------------------------------------------------------------


def general_step(**overrides):
    data = {
        "name": "Rougeole Pikine 2025",
        "campaign_type": "vaccination",
        "prefix": "pik-rou",
        "description": "Campagne de suivi",
        "action": "next",
    }
    data.update(overrides)
    return data


def walk_to_review(client, **general):
    assert client.post("/campaigns/new/general/", general_step(**general)).status_code == 302
    assert (
        client.post("/campaigns/new/language/", {"language": "wo", "action": "next"})["Location"]
        == "/campaigns/new/template/"
    )
    client.post("/campaigns/new/template/", {"template_id": "vaccination", "action": "next"})
    response = client.post("/campaigns/new/dpi/", {"dpi": "450", "action": "next"})
    assert response["Location"] == "/campaigns/new/review/"


def test_wizard_start_goes_to_the_first_step(client):
    assert client.get("/campaigns/new/")["Location"] == "/campaigns/new/general/"


def test_wizard_step_errors_show_beside_each_field_and_keep_what_was_typed(client):
    response = client.post(
        "/campaigns/new/general/", general_step(prefix="a!", campaign_type="", name="Keep me")
    )
    assert response.status_code == 200
    assert 'value="Keep me"' in field_block(response, "name")
    assert "capital letters, digits and inner hyphens" in field_block(response, "prefix")
    assert "field-error" in field_block(response, "campaign_type")
    assert "field-error" not in field_block(response, "name")


def test_wizard_refuses_a_prefix_already_taken_at_step_one(client):
    make_campaign(program=make_program(), prefix="PIK-ROU")
    response = client.post("/campaigns/new/general/", general_step(prefix="pik-rou"))
    assert response.status_code == 200
    assert "already taken" in field_block(response, "prefix")


def test_wizard_back_keeps_what_was_typed_on_the_step(client):
    client.post("/campaigns/new/general/", general_step())
    response = client.post("/campaigns/new/language/", {"language": "en", "action": "back"})
    assert response["Location"] == "/campaigns/new/general/"
    assert 'value="Rougeole Pikine 2025"' in html(client.get("/campaigns/new/general/"))
    language_page = html(client.get("/campaigns/new/language/"))
    assert re.search(r'value="en"[^>]*checked', language_page)


def test_wizard_cannot_skip_to_a_later_step(client):
    assert client.get("/campaigns/new/review/")["Location"].startswith("/campaigns/new/general/")
    client.post("/campaigns/new/general/", general_step())
    assert client.get("/campaigns/new/dpi/")["Location"].startswith("/campaigns/new/language/")


def test_wizard_preselects_the_template_of_the_chosen_type(client):
    client.post("/campaigns/new/general/", general_step(campaign_type="nutrition"))
    client.post("/campaigns/new/language/", {"language": "fr", "action": "next"})
    page = html(client.get("/campaigns/new/template/"))
    assert re.search(r'value="nutrition"[^>]*checked', page)
    assert len(re.findall(r'name="template_id"', page)) == len(CampaignType.values)


def test_wizard_dpi_step_shows_cost_factors(client):
    client.post("/campaigns/new/general/", general_step())
    client.post("/campaigns/new/language/", {"language": "fr", "action": "next"})
    client.post("/campaigns/new/template/", {"template_id": "vaccination", "action": "next"})
    page = html(client.get("/campaigns/new/dpi/"))
    for factor in ("1.0", "1.4", "2.0"):
        assert f"\N{MULTIPLICATION SIGN} {factor}" in page


def test_wizard_review_summarises_and_warns_that_prefix_and_type_are_final(client):
    walk_to_review(client)
    page = html(client.get("/campaigns/new/review/"))
    assert "PIK-ROU" in page and "Rougeole Pikine 2025" in page and "450 dpi" in page
    assert 'id="final-warning"' in page
    assert "cannot be changed" in page


def test_wizard_creates_the_campaign(client, program, operator):
    walk_to_review(client)
    response = client.post("/campaigns/new/review/", {"action": "create"})
    campaign = Campaign.objects.get(prefix="PIK-ROU")
    assert response["Location"] == f"/campaigns/{campaign.pk}/"
    assert (campaign.program, campaign.created_by) == (program, operator)
    assert (campaign.name, campaign.campaign_type, campaign.language) == (
        "Rougeole Pikine 2025",
        "vaccination",
        "wo",
    )
    assert (campaign.template_id, campaign.dpi, campaign.description) == (
        "vaccination",
        450,
        "Campagne de suivi",
    )
    assert SESSION_KEY not in client.session


def test_wizard_shows_a_prefix_taken_meanwhile_beside_the_prefix_field(client):
    walk_to_review(client)
    make_campaign(program=make_program(), prefix="PIK-ROU")
    response = client.post("/campaigns/new/review/", {"action": "create"}, follow=True)
    assert response.redirect_chain[-1][0] == "/campaigns/new/general/?check=1"
    assert "already taken" in field_block(response, "prefix")
    assert 'value="Rougeole Pikine 2025"' in field_block(response, "name")
    assert Campaign.objects.filter(prefix="PIK-ROU").count() == 1


def test_wizard_start_over_forgets_everything(client):
    client.post("/campaigns/new/general/", general_step())
    client.post("/campaigns/new/language/", {"action": "reset"})
    assert "Rougeole" not in html(client.get("/campaigns/new/general/"))


# Languages ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "Dashboard"), ("fr", "Tableau de bord"), ("wo", "Tablo")],
)
def test_dashboard_renders_in_each_language(operator, language, expected):
    body = html(client_for(operator, language).get("/"))
    assert f'<html lang="{language}">' in body
    assert expected in body


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "New campaign"), ("fr", "Nouvelle campagne"), ("wo", "Kampaañ bu bees")],
)
def test_wizard_renders_in_each_language(operator, language, expected):
    assert expected in html(client_for(operator, language).get("/campaigns/new/general/"))


def test_form_errors_are_translated_into_wolof(operator):
    client = client_for(operator, "wo")
    response = client.post("/campaigns/new/general/", general_step(name=""))
    assert "This field is required." not in field_block(response, "name")
    assert "field-error" in field_block(response, "name")


def test_language_switcher_sets_the_language(client):
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/campaigns/"})
    assert response["Location"] == "/campaigns/"
    assert "Campagnes" in html(client.get("/campaigns/"))
