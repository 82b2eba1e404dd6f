"""/api/campaigns/<id>/beneficiaries over HTTP: import (CSV or JSON) and the masked list."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from campaigns.models import Beneficiary, CampaignType, Role
from tests.factories import (
    api_client,
    make_api_key,
    make_beneficiary,
    make_campaign,
    make_program,
    make_user,
)

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent / "data"
SMALL_CSV = (
    "external_id;First Name;last_name;date_of_birth;sex;phone_number;district\n"
    "a1;Awa;Sow;2019-02-20;f;771234567;Pikine\n"
    "a2;Fodé;Camara;17/05/2019;M;;Thiès\n"
).encode()


def url(campaign):
    return f"/api/campaigns/{campaign.pk}/beneficiaries"


def upload(data, name="people.csv"):
    return SimpleUploadedFile(name, data, content_type="text/csv")


def json_row(**overrides):
    values = {"external_id": "j1", "first_name": "Aya", "last_name": "Essomba",
              "date_of_birth": "2021-02-03", "sex": "F", "phone_number": "+221771234567"}
    values.update(overrides)
    return values


@pytest.fixture
def client(program):
    return api_client(make_api_key(program=program, role=Role.OPERATOR))


# Import ----------------------------------------------------------------------------------


def test_csv_upload_imports_the_file(client, campaign):
    with (DATA / "beneficiaries-1000.csv").open("rb") as handle:
        response = client.post(url(campaign), {"file": handle}, format="multipart")
    assert response.status_code == 201
    assert response.json() == {"created": 1000, "updated": 0, "total": 1000}
    assert Beneficiary.objects.filter(campaign=campaign).count() == 1000


def test_csv_upload_again_updates(client, campaign):
    client.post(url(campaign), {"file": upload(SMALL_CSV)}, format="multipart")
    response = client.post(url(campaign), {"file": upload(SMALL_CSV)}, format="multipart")
    assert response.json() == {"created": 0, "updated": 2, "total": 2}


def test_csv_upload_answers_with_and_without_trailing_slash(client, campaign):
    response = client.post(url(campaign) + "/", {"file": upload(SMALL_CSV)}, format="multipart")
    assert response.status_code == 201


def test_json_rows_are_imported(client, campaign):
    response = client.post(
        url(campaign), {"beneficiaries": [json_row(), json_row(external_id="j2")]}, format="json"
    )
    assert response.status_code == 201
    assert response.json() == {"created": 2, "updated": 0, "total": 2}


def test_bad_rows_answer_400_with_every_error_and_save_nothing(client, campaign):
    with (DATA / "beneficiaries-dirty.csv").open("rb") as handle:
        response = client.post(url(campaign), {"file": handle}, format="multipart",
                               HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "10 rows were rejected; nothing was imported."
    assert {e["line"] for e in body["errors"]} == {31, 58, 104, 110, 124, 140, 166, 171, 176, 208}
    assert {"line": 110, "field": "phone_number", "field_label": "phone",
            "message": "phone has letters"} in body["errors"]
    assert not Beneficiary.objects.filter(campaign=campaign).exists()


def test_bad_json_row_is_named_by_its_position(client, campaign):
    response = client.post(
        url(campaign), {"beneficiaries": [json_row(), json_row(external_id="j2", sex="X")]},
        format="json",
    )
    assert response.status_code == 400
    assert [(e["line"], e["field"]) for e in response.json()["errors"]] == [(2, "sex")]


def test_missing_file_and_body_is_400_naming_file(client, campaign):
    response = client.post(url(campaign), {}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()["fields"]
    assert "file" in response.json()["error"]


def test_beneficiaries_that_is_not_a_list_is_400(client, campaign):
    response = client.post(url(campaign), {"beneficiaries": "Aya"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "beneficiaries"


def test_viewer_cannot_import(program, campaign):
    viewer = api_client(make_api_key(program=program, role=Role.VIEWER))
    response = viewer.post(url(campaign), {"file": upload(SMALL_CSV)}, format="multipart")
    assert response.status_code == 403
    assert not Beneficiary.objects.filter(campaign=campaign).exists()


def test_viewer_signed_in_in_the_browser_cannot_import(program, campaign):
    client = api_client()
    client.force_login(make_user(program=program, role=Role.VIEWER))
    response = client.post(url(campaign), {"file": upload(SMALL_CSV)}, format="multipart")
    assert response.status_code == 403


def test_campaign_of_another_program_is_404(campaign):
    outsider = api_client(make_api_key(program=make_program()))
    response = outsider.post(url(campaign), {"file": upload(SMALL_CSV)}, format="multipart")
    assert response.status_code == 404
    assert not Beneficiary.objects.filter(campaign=campaign).exists()


def test_deleted_campaign_is_404(client, campaign):
    campaign.deleted_at = timezone.now()
    campaign.save()
    assert client.get(url(campaign)).status_code == 404


def test_unauthenticated_import_is_401(campaign):
    response = api_client().post(url(campaign), {"file": upload(SMALL_CSV)}, format="multipart")
    assert response.status_code == 401


# Sensitive (HIV) campaigns ---------------------------------------------------------------


@pytest.fixture
def hiv_campaign(program):
    return make_campaign(program=program, campaign_type=CampaignType.HIV)


def test_hiv_import_without_sensitive_access_is_403(client, hiv_campaign):
    response = client.post(url(hiv_campaign), {"file": upload(SMALL_CSV)}, format="multipart")
    assert response.status_code == 403
    assert "sensitive" in response.json()["error"]
    assert not Beneficiary.objects.filter(campaign=hiv_campaign).exists()


def test_hiv_list_without_sensitive_access_is_403(client, hiv_campaign):
    make_beneficiary(campaign=hiv_campaign)
    response = client.get(url(hiv_campaign))
    assert response.status_code == 403
    assert "sensitive" in response.json()["error"]


def test_hiv_import_with_sensitive_access_is_accepted(program, hiv_campaign):
    client = api_client(make_api_key(program=program, can_view_sensitive=True))
    response = client.post(url(hiv_campaign), {"file": upload(SMALL_CSV)}, format="multipart")
    assert response.status_code == 201


def test_hiv_list_for_a_signed_in_member_with_sensitive_access(program, hiv_campaign):
    make_beneficiary(campaign=hiv_campaign)
    client = api_client()
    client.force_login(make_user(program=program, role=Role.VIEWER, can_view_sensitive=True))
    assert client.get(url(hiv_campaign)).json()["meta"]["total"] == 1


# List ------------------------------------------------------------------------------------


def test_list_masks_phone_numbers(client, campaign):
    make_beneficiary(campaign=campaign, phone="+221771234567")
    item = client.get(url(campaign)).json()["data"][0]
    assert item["phone"] == "+22177***4567"
    assert "771234567" not in str(client.get(url(campaign)).json())


def test_viewer_can_list(program, campaign):
    make_beneficiary(campaign=campaign)
    viewer = api_client(make_api_key(program=program, role=Role.VIEWER))
    assert viewer.get(url(campaign)).status_code == 200


def test_list_is_paginated_with_limit_and_offset(client, campaign):
    made = [make_beneficiary(campaign=campaign) for _ in range(5)]
    body = client.get(url(campaign), {"limit": 2, "offset": 2}).json()
    assert [item["id"] for item in body["data"]] == [made[2].pk, made[3].pk]
    assert body["meta"] == {"total": 5, "limit": 2, "offset": 2}


def test_list_searches_names_and_external_id(client, campaign):
    make_beneficiary(campaign=campaign, first_name="Khady", external_id="dhis-1")
    make_beneficiary(campaign=campaign, first_name="Moussa", external_id="dhis-2")
    assert [i["first_name"] for i in client.get(url(campaign), {"q": "khad"}).json()["data"]] == [
        "Khady"
    ]
    assert client.get(url(campaign), {"q": "DHIS-2"}).json()["data"][0]["first_name"] == "Moussa"


def test_list_shows_only_this_campaigns_beneficiaries(client, program, campaign):
    make_beneficiary(campaign=make_campaign(program=program))
    assert client.get(url(campaign)).json()["meta"]["total"] == 0


def test_list_refuses_a_limit_out_of_range(client, campaign):
    response = client.get(url(campaign), {"limit": 100000})
    assert response.status_code == 400
    assert "limit" in response.json()["fields"]


# OpenAPI ---------------------------------------------------------------------------------


def test_openapi_describes_csv_and_json_imports(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    path = next(p for p in schema["paths"] if p.rstrip("/").endswith("/beneficiaries"))
    post = schema["paths"][path]["post"]
    assert set(post["requestBody"]["content"]) >= {"multipart/form-data", "application/json"}
    assert {"201", "400", "403", "404"} <= set(post["responses"])
    assert "get" in schema["paths"][path]
