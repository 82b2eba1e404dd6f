"""Card data that is right before printing: campaign-level values of a template's fields,
per-person import columns, the CSV import template and the readiness warning."""

import csv
import datetime
import io

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone, translation

from campaigns import readiness, studio
from campaigns.models import CampaignType, Role
from cards.rendering.rows import card_texts
from cards.studio_services import campaign_design_update
from tests.factories import (
    api_client,
    make_api_key,
    make_beneficiary,
    make_campaign,
    make_card,
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
    return make_campaign(program=program, campaign_type=CampaignType.VACCINATION)


def card(attributes=None):
    return {
        "code": "T-0001", "first_name": "Awa", "last_name": "Ba",
        "date_of_birth": datetime.date(2019, 5, 17), "sex": "F",
        "attributes": attributes or {}, "issued_on": datetime.date(2026, 1, 15),
        "expires_on": None,
    }


def set_values(campaign, values):
    return campaign_design_update(campaign=campaign, template_options={"values": values})


def test_campaign_value_is_printed_for_people_without_their_own(campaign):
    campaign = set_values(campaign, {"vaccine": "RR1", "doses": "1"})

    texts = card_texts(campaign=campaign, card=card())

    assert (texts["vaccine"], texts["doses"]) == ("RR1", "1")


def test_a_persons_own_column_wins_over_the_campaign_value(campaign):
    campaign = set_values(campaign, {"vaccine": "RR1"})

    texts = card_texts(campaign=campaign, card=card({"vaccine": "RR2"}))

    assert texts["vaccine"] == "RR2"


def test_a_field_with_no_value_anywhere_prints_a_dash(campaign):
    assert card_texts(campaign=campaign, card=card())["vaccine"] == "—"


def test_values_for_another_templates_field_are_refused(campaign):
    with pytest.raises(ValidationError) as caught:
        set_values(campaign, {"nets": "3"})

    assert "values" in caught.value.message_dict


def test_campaign_values_are_cleaned_and_empty_ones_dropped():
    cleaned = studio.template_options_validate(
        {"values": {"vaccine": "  RR   1 ", "doses": ""}}, "vaccination"
    )

    assert cleaned == {"values": {"vaccine": "RR 1"}}


def test_the_sample_card_shows_the_campaign_value(campaign):
    from cards.rendering.sample import sample_card

    sample = sample_card(campaign, campaign_values={"vaccine": "RR1"})

    assert "vaccine" not in sample["attributes"] and sample["attributes"]["doses"] == 3


def read_csv(response):
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_csv_template_lists_the_standard_and_the_templates_columns(program):
    campaign = make_campaign(program=program, campaign_type=CampaignType.MILD)
    client = api_client(make_api_key(program=program, role=Role.VIEWER))

    header, example = read_csv(client.get(f"/api/campaigns/{campaign.pk}/import-template.csv"))

    assert header[:5] == ["external_id", "first_name", "last_name", "date_of_birth", "sex"]
    assert header[-2:] == ["nets", "household_size"]
    assert len(example) == len(header) and example[header.index("nets")] == "3"


def test_csv_template_page_leaves_campaign_set_columns_empty(program, campaign):
    set_values(campaign, {"vaccine": "RR1"})
    client = Client()
    client.force_login(make_user(program=program, role=Role.VIEWER))

    header, example = read_csv(client.get(f"/campaigns/{campaign.pk}/import-template.csv"))

    assert example[header.index("vaccine")] == "" and example[header.index("doses")] == "3"


def test_csv_template_of_another_programs_campaign_is_not_found(campaign):
    other = api_client(make_api_key(program=make_program()))

    assert other.get(f"/api/campaigns/{campaign.pk}/import-template.csv").status_code == 404


def test_import_panel_lists_the_templates_columns(program, campaign):
    client = Client()
    client.force_login(make_user(program=program, role=Role.OPERATOR))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    page = client.get(f"/campaigns/{campaign.pk}/").content.decode()

    assert 'data-column="vaccine"' in page and 'data-column="doses"' in page
    assert f"/campaigns/{campaign.pk}/import-template.csv" in page


def card_data_check(campaign):
    checks = readiness.campaign_readiness(campaign=campaign)["checks"]
    return next(c for c in checks if c["key"] == "card_data")


def test_readiness_warns_with_the_count_and_an_example_of_empty_fields(campaign):
    make_beneficiary(campaign=campaign, external_id="EXT-1", attributes={"doses": "2"})
    make_beneficiary(campaign=campaign, external_id="EXT-2", attributes={"vaccine": ""})
    make_beneficiary(campaign=campaign, external_id="EXT-3",
                     attributes={"vaccine": "RR1", "doses": "1"})

    check = card_data_check(campaign)

    assert check["status"] == "warning"
    # Fields are named as the card prints them, in the campaign's language (fr).
    assert "Vaccin: empty for 2 (e.g. EXT-1)" in check["detail"]
    assert "Doses reçues: empty for 1 (e.g. EXT-2)" in check["detail"]


def test_readiness_counts_only_people_a_new_job_would_card(campaign):
    holder = make_beneficiary(campaign=campaign, external_id="EXT-1", attributes={"doses": "2"})
    make_card(campaign=campaign, beneficiary=holder)  # valid: a new job leaves them out
    revoked = make_beneficiary(campaign=campaign, external_id="EXT-2", attributes={"doses": "1"})
    make_card(campaign=campaign, beneficiary=revoked, revoked_at=timezone.now())
    make_beneficiary(campaign=campaign, external_id="EXT-3", attributes={"doses": "1"})

    check = card_data_check(campaign)

    assert check["status"] == "warning"
    assert "Vaccin: empty for 2 (e.g. EXT-2)" in check["detail"]
    assert "already hold a valid card are left out of a new job and not counted" in (
        check["detail"])


def test_readiness_is_ready_when_only_valid_card_holders_lack_a_value(campaign):
    holder = make_beneficiary(campaign=campaign, attributes={"doses": "2"})
    make_card(campaign=campaign, beneficiary=holder)
    make_beneficiary(campaign=campaign, attributes={"vaccine": "RR1", "doses": "1"})

    assert card_data_check(campaign)["status"] == "ready"


def test_readiness_counts_no_field_the_campaign_sets(campaign):
    make_beneficiary(campaign=campaign, attributes={"doses": "2"})
    campaign = set_values(campaign, {"vaccine": "RR1"})

    assert card_data_check(campaign)["status"] == "ready"


def test_readiness_ignores_hidden_fields(campaign):
    make_beneficiary(campaign=campaign, attributes={"vaccine": "RR1"})
    campaign = campaign_design_update(
        campaign=campaign, template_options={"show_fields": ["sex", "vaccine"]}
    )

    assert card_data_check(campaign)["status"] == "ready"


def test_api_roundtrip_of_campaign_values(program, campaign):
    client = api_client(make_api_key(program=program, role=Role.OPERATOR))
    url = f"/api/campaigns/{campaign.pk}/design"

    put = client.put(url, {"template_options": {"values": {"vaccine": "RR1", "doses": 1}}},
                     format="json")
    got = client.get(url).json()

    assert put.status_code == 200, put.content
    assert got["template_options"]["values"] == {"vaccine": "RR1", "doses": "1"}
    assert got["design"]["values"] == {"vaccine": "RR1", "doses": "1"}


def test_api_names_a_bad_campaign_value(program, campaign):
    client = api_client(make_api_key(program=program, role=Role.OPERATOR))

    response = client.put(f"/api/campaigns/{campaign.pk}/design",
                          {"template_options": {"values": {"nets": "3"}}}, format="json")

    assert response.status_code == 400 and "values" in response.json()["fields"]["template_options"]


def test_design_page_saves_campaign_values(program, campaign):
    client = Client()
    client.force_login(make_user(program=program, role=Role.OPERATOR))
    template = studio.TEMPLATES["vaccination"]

    client.post(f"/campaigns/{campaign.pk}/design/", {
        "action": "save", "template_id": "vaccination", "fields_for": "vaccination",
        "primary_colour": template.primary_colour, "accent_colour": template.accent_colour,
        "title": "", "show_fields": list(studio.optional_field_keys("vaccination")),
        "logo": "on", "value_vaccine": "RR1", "value_doses": "",
    })

    campaign.refresh_from_db()
    assert campaign.template_options == {"values": {"vaccine": "RR1"}}


def test_design_page_shows_a_box_per_field_with_the_saved_value(program, campaign):
    set_values(campaign, {"vaccine": "RR1"})
    client = Client()
    client.force_login(make_user(program=program, role=Role.OPERATOR))

    page = client.get(f"/campaigns/{campaign.pk}/design/").content.decode()

    assert 'name="value_vaccine"' in page and 'value="RR1"' in page
    assert 'name="value_doses"' in page


def test_preview_query_replaces_the_saved_values(program, campaign):
    from cards.studio_api import _asked_design

    set_values(campaign, {"vaccine": "RR1"})
    campaign.refresh_from_db()

    _template, options = _asked_design(campaign, {"value_vaccine": "", "value_doses": "2"})

    assert options["values"] == {"doses": "2"}


def test_readiness_of_a_sensitive_campaign_gives_counts_only(program):
    campaign = make_campaign(program=program, campaign_type=CampaignType.HIV)
    make_beneficiary(campaign=campaign, external_id="EXT-9")

    check = card_data_check(campaign)

    assert "Site de suivi: empty for 1" in check["detail"] and "EXT-9" not in check["detail"]
