"""GET/PUT /api/campaigns/<id>/dhis2: a campaign's DHIS2 program, org unit and attribute
mapping, each checked against the (stub) DHIS2 before it is saved."""

import pytest

from campaigns.dhis2.models import CampaignDhis2Link
from campaigns.models import Role
from tests.factories import (
    api_client,
    make_api_key,
    make_campaign,
    make_dhis2_connection,
    make_program,
)
from tests.stubs.dhis2 import (
    ATTRIBUTES,
    COUNTRY,
    DISTRICT,
    FACILITY,
    MAPPING,
    OTHER_PROGRAM,
    OUTSIDE_DISTRICT,
    PROGRAM,
    TB_ATTRIBUTE,
)

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.stubs.dhis2_fixtures"]


@pytest.fixture
def setup(dhis2_stub):
    program = make_program()
    make_dhis2_connection(program=program, config=dhis2_stub.config())
    campaign = make_campaign(program=program)
    client = api_client(make_api_key(program=program, role=Role.OPERATOR))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return program, campaign, client


def put_link(client, campaign, **overrides):
    body = {"program_uid": PROGRAM, "org_unit_uid": DISTRICT, "mapping": dict(MAPPING)}
    body.update(overrides)
    return client.put(f"/api/campaigns/{campaign.pk}/dhis2", body, format="json")


def test_a_campaign_without_a_link_reads_as_not_configured(setup):
    _program, campaign, client = setup
    body = client.get(f"/api/campaigns/{campaign.pk}/dhis2").json()
    assert body["configured"] is False and body["mapping"] == {}


def test_a_valid_link_is_saved_with_dhis2s_names(setup):
    _program, campaign, client = setup
    response = put_link(client, campaign)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["program_uid"], body["org_unit_uid"]) == (PROGRAM, DISTRICT)
    assert (body["program_name"], body["org_unit_name"]) == ("Child Programme", "Bo")
    assert body["mapping"] == MAPPING
    uid, name, value_type = ATTRIBUTES["date_of_birth"]
    assert body["attributes"][uid] == {"displayName": name, "valueType": value_type}
    assert client.get(f"/api/campaigns/{campaign.pk}/dhis2").json() == body


def test_the_country_above_the_programs_facilities_is_accepted(setup):
    _program, campaign, client = setup
    assert put_link(client, campaign, org_unit_uid=COUNTRY).status_code == 200


def test_phone_is_accepted_as_another_name_for_phone_number(setup):
    _program, campaign, client = setup
    mapping = {**MAPPING, "phone": MAPPING["phone_number"]}
    del mapping["phone_number"]
    body = put_link(client, campaign, mapping=mapping).json()
    assert body["mapping"]["phone_number"] == MAPPING["phone_number"]


def test_an_unknown_program_is_named(setup):
    _program, campaign, client = setup
    response = put_link(client, campaign, program_uid="Zzzzzzzzzz1")
    assert response.status_code == 400
    assert response.json()["fields"]["program_uid"] == [
        "DHIS2 has no program Zzzzzzzzzz1 (or this account may not see it)."
    ]


def test_an_unknown_org_unit_is_named(setup):
    _program, campaign, client = setup
    response = put_link(client, campaign, org_unit_uid="Zzzzzzzzzz1")
    assert response.status_code == 400
    assert "no organisation unit Zzzzzzzzzz1" in response.json()["fields"]["org_unit_uid"][0]


def test_an_org_unit_outside_the_program_is_named(setup):
    _program, campaign, client = setup
    response = put_link(client, campaign, org_unit_uid=OUTSIDE_DISTRICT)
    assert response.status_code == 400
    assert response.json()["fields"]["org_unit_uid"] == [
        "The organisation unit Bombali is not assigned to the program Child Programme, and "
        "none below it is."
    ]


def test_an_attribute_of_another_program_is_named(setup):
    _program, campaign, client = setup
    response = put_link(client, campaign, mapping={**MAPPING, "mpi_id": TB_ATTRIBUTE})
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "mapping.mpi_id": [f"{TB_ATTRIBUTE} is not an attribute of the program Child Programme."]
    }


def test_the_other_program_refuses_the_child_programme_attributes(setup):
    _program, campaign, client = setup
    response = put_link(client, campaign, program_uid=OTHER_PROGRAM, org_unit_uid=FACILITY)
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {f"mapping.{key}" for key in MAPPING}


def test_a_missing_required_field_is_named(setup):
    _program, campaign, client = setup
    mapping = {key: uid for key, uid in MAPPING.items() if key != "date_of_birth"}
    response = put_link(client, campaign, mapping=mapping)
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["mapping.date_of_birth"]


def test_a_field_that_is_neither_a_beneficiary_nor_a_template_field_is_named(setup):
    _program, campaign, client = setup
    response = put_link(client, campaign, mapping={**MAPPING, "frist_name": MAPPING["first_name"]})
    assert response.status_code == 400
    message = response.json()["fields"]["mapping.frist_name"][0]
    assert "Not a beneficiary field" in message and "vaccine" in message


def test_a_malformed_uid_is_named_without_asking_dhis2(setup, dhis2_stub):
    _program, campaign, client = setup
    response = put_link(client, campaign, org_unit_uid="12345")
    assert response.status_code == 400
    assert "11 letters and digits" in response.json()["fields"]["org_unit_uid"][0]
    assert dhis2_stub.received("GET", "/api/programs") == []


def test_nothing_is_saved_when_dhis2_refuses_the_credentials(setup, dhis2_stub):
    _program, campaign, client = setup
    dhis2_stub.token = "d2pat_rotated00000000000000"
    response = put_link(client, campaign)
    assert response.status_code == 502
    assert response.json()["code"] == "unauthorized"
    assert not CampaignDhis2Link.objects.filter(campaign=campaign).exists()


def test_without_a_connection_the_link_is_409():
    program = make_program()
    campaign = make_campaign(program=program)
    client = api_client(make_api_key(program=program))
    assert put_link(client, campaign).status_code == 409


def test_a_viewer_cannot_change_the_link(setup):
    program, campaign, _client = setup
    viewer = api_client(make_api_key(program=program, role=Role.VIEWER))
    assert put_link(viewer, campaign).status_code == 403


def test_another_programs_campaign_is_404(setup, dhis2_stub):
    _program, campaign, _client = setup
    outsider = make_program()
    make_dhis2_connection(program=outsider, config=dhis2_stub.config())
    client = api_client(make_api_key(program=outsider))
    assert client.get(f"/api/campaigns/{campaign.pk}/dhis2").status_code == 404
    assert put_link(client, campaign).status_code == 404
