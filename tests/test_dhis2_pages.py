"""The DHIS2 pages through Django's test client: the program's connection (save, test), and a
campaign's DHIS2 page (selects filled from DHIS2, saving the mapping, the import button, the
live panel and the history)."""

import django_rq
import pytest
from django.conf import settings
from django.test import Client

from campaigns.dhis2.connection import connection_config, connection_get
from campaigns.dhis2.models import CampaignDhis2Link, Dhis2SyncRun
from campaigns.models import Role
from tests.factories import (
    make_campaign,
    make_dhis2_connection,
    make_dhis2_link,
    make_program,
    make_user,
)
from tests.stubs.dhis2 import COUNTRY, DISTRICT, MAPPING, OUTSIDE_DISTRICT, PROGRAM

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.stubs.dhis2_fixtures"]


def client_for(user):
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def html(response):
    return response.content.decode()


@pytest.fixture
def program():
    return make_program(name="PEV Bo")


@pytest.fixture
def admin(program):
    return client_for(make_user(program=program, role=Role.ADMIN))


@pytest.fixture
def operator(program):
    return client_for(make_user(program=program, role=Role.OPERATOR))


def link_form_data(**overrides):
    data = {"program_uid": PROGRAM, "org_unit_uid": DISTRICT}
    data.update({f"map_{key}": value for key, value in MAPPING.items()})
    data.update(overrides)
    return data


# The connection page ------------------------------------------------------------------------


def test_an_admin_saves_the_connection_and_never_sees_the_token_again(program, admin, dhis2_stub):
    response = admin.post("/dhis2/connection/", {**dhis2_stub.config(), "enabled": "on"})
    assert response.status_code == 302
    assert connection_get(program=program).enabled
    page = html(admin.get("/dhis2/connection/"))
    assert dhis2_stub.token not in page
    assert f'placeholder="••••{dhis2_stub.token[-4:]}"' in page


def test_a_bad_token_is_shown_on_its_field(admin, dhis2_stub):
    response = admin.post("/dhis2/connection/", {**dhis2_stub.config(), "token": "abc"})
    assert response.status_code == 200
    assert "A DHIS2 personal access token starts with d2pat_." in html(response)


def test_an_operator_cannot_change_the_connection(operator, dhis2_stub):
    assert operator.post("/dhis2/connection/", dhis2_stub.config()).status_code == 403


def test_the_test_button_says_what_works(program, operator, dhis2_stub):
    make_dhis2_connection(program=program, config=dhis2_stub.config())
    response = operator.post("/dhis2/connection/test/", follow=True)
    assert "Connected to DHIS2 2.41.1 as admin." in html(response)


def test_the_test_button_says_what_is_wrong(program, operator, dhis2_stub):
    make_dhis2_connection(program=program, config={**dhis2_stub.config(),
                                                   "token": "d2pat_wrong0000000000000"})
    response = operator.post("/dhis2/connection/test/", follow=True)
    assert "The DHIS2 connection does not work: DHIS2 refused the personal access token" in (
        html(response)
    )


# The campaign's DHIS2 page ------------------------------------------------------------------


def test_without_a_connection_the_page_links_to_its_settings(program, operator):
    campaign = make_campaign(program=program)
    page = html(operator.get(f"/campaigns/{campaign.pk}/dhis2/"))
    assert "This program has no DHIS2 connection yet." in page
    assert 'href="/dhis2/connection/?next=' in page


def test_the_page_lists_dhis2_programs_then_the_chosen_programs_attributes(
    program, operator, dhis2_stub
):
    make_dhis2_connection(program=program, config=dhis2_stub.config())
    campaign = make_campaign(program=program)
    page = html(operator.get(f"/campaigns/{campaign.pk}/dhis2/"))
    assert '<option value="IpHINAT79UW">Child Programme</option>' in page
    assert "map_first_name" not in page

    page = html(operator.get(f"/campaigns/{campaign.pk}/dhis2/?program_uid={PROGRAM}"))
    assert f'<option value="{MAPPING["date_of_birth"]}">Date of birth (DATE)</option>' in page
    assert f'<option value="{MAPPING["phone_number"]}">Mobile number (PHONE_NUMBER)</option>' in (
        page
    )
    assert 'name="map_vaccine"' in page  # a field of the vaccination card template
    assert f'<option value="{DISTRICT}">' in page and f'<option value="{COUNTRY}">' in page
    assert f'<option value="{OUTSIDE_DISTRICT}">' not in page  # no facility of the program


def test_saving_the_form_saves_the_link(program, operator, dhis2_stub):
    make_dhis2_connection(program=program, config=dhis2_stub.config())
    campaign = make_campaign(program=program)
    response = operator.post(f"/campaigns/{campaign.pk}/dhis2/", link_form_data())
    assert response.status_code == 302
    link = CampaignDhis2Link.objects.get(campaign=campaign)
    assert (link.program_uid, link.org_unit_uid, link.mapping) == (PROGRAM, DISTRICT, MAPPING)
    page = html(operator.get(f"/campaigns/{campaign.pk}/dhis2/"))
    assert "Saved: program Child Programme, org unit Bo and below." in page
    assert f'<option value="{MAPPING["sex"]}" selected>Gender (TEXT)</option>' in page


def test_an_org_unit_not_offered_is_refused_on_its_field(program, operator, dhis2_stub):
    make_dhis2_connection(program=program, config=dhis2_stub.config())
    campaign = make_campaign(program=program)
    response = operator.post(f"/campaigns/{campaign.pk}/dhis2/",
                             link_form_data(org_unit_uid=OUTSIDE_DISTRICT))
    assert response.status_code == 200
    assert '<p class="field-error" id="id_org_unit_uid_error1" data-field="org_unit_uid">' \
        'Choose one of the options shown.</p>' in html(response)
    assert not CampaignDhis2Link.objects.filter(campaign=campaign).exists()


def test_an_unreachable_dhis2_is_explained_on_the_page(program, operator):
    make_dhis2_connection(program=program, config={
        "base_url": "https://dhis2.campaignid.invalid", "auth": "token",
        "token": "d2pat_abcdefghijklmnopqrstuvwxyz"})
    campaign = make_campaign(program=program)
    page = html(operator.get(f"/campaigns/{campaign.pk}/dhis2/"))
    assert "dhis2.campaignid.invalid cannot be found (DNS)" in page


def test_a_viewer_cannot_save_the_mapping(program, dhis2_stub):
    make_dhis2_connection(program=program, config=dhis2_stub.config())
    campaign = make_campaign(program=program)
    viewer = client_for(make_user(program=program, role=Role.VIEWER))
    assert viewer.post(f"/campaigns/{campaign.pk}/dhis2/", link_form_data()).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_the_import_button_runs_a_sync_shown_live_and_in_the_history(
    program, operator, dhis2_stub
):
    dhis2_stub.add_entities(30)
    dhis2_stub.add_entity(99, first_name=None, last_name="Diop", sex="F",
                          date_of_birth="2019-05-17")
    make_dhis2_connection(program=program, config=dhis2_stub.config())
    campaign = make_campaign(program=program)
    make_dhis2_link(campaign=campaign, program_uid=PROGRAM, org_unit_uid=COUNTRY,
                    mapping=dict(MAPPING))
    response = operator.post(f"/campaigns/{campaign.pk}/dhis2/sync/", {"full": "on"},
                             follow=True)
    assert "The import from DHIS2 has started." in html(response)
    django_rq.get_worker("dhis2").work(burst=True)

    run = Dhis2SyncRun.objects.get(campaign=campaign)
    page = html(operator.get(f"/campaigns/{campaign.pk}/dhis2/"))
    assert f'data-ws-path="/ws/dhis2/syncs/{run.pk}"' in page
    assert f'data-status-url="/api/dhis2/syncs/{run.pk}"' in page
    assert '<dd data-field="created">30</dd>' in page
    assert '<dd data-field="skipped">1</dd>' in page
    assert f'href="/api/dhis2/syncs/{run.pk}/errors.csv"' in page
    assert f'<tr data-run="{run.pk}">' in page and "Completed" in page


def test_a_second_click_while_a_sync_runs_says_so(program, operator, dhis2_stub):
    make_dhis2_connection(program=program, config=dhis2_stub.config())
    campaign = make_campaign(program=program)
    make_dhis2_link(campaign=campaign, program_uid=PROGRAM, org_unit_uid=COUNTRY,
                    mapping=dict(MAPPING))
    operator.post(f"/campaigns/{campaign.pk}/dhis2/sync/")
    response = operator.post(f"/campaigns/{campaign.pk}/dhis2/sync/", follow=True)
    assert "A DHIS2 import is already running for this campaign." in html(response)
    assert Dhis2SyncRun.objects.filter(campaign=campaign).count() == 1


def test_another_programs_campaign_page_is_404(operator):
    campaign = make_campaign(program=make_program())
    assert operator.get(f"/campaigns/{campaign.pk}/dhis2/").status_code == 404
    assert operator.post(f"/campaigns/{campaign.pk}/dhis2/sync/").status_code == 404


def test_the_connection_stays_encrypted_when_saved_from_the_page(program, admin, dhis2_stub):
    admin.post("/dhis2/connection/", dhis2_stub.config(auth="basic"))
    row = connection_get(program=program)
    assert dhis2_stub.password not in row.config_encrypted
    assert connection_config(connection=row)["username"] == "admin"
