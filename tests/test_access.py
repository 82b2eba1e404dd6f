import pytest

from campaigns.models import Role
from campaigns.services import api_key_create, api_key_revoke, quota_balance
from tests.factories import api_client, make_api_key, make_program, make_user

pytestmark = pytest.mark.django_db


def test_api_key_in_x_api_key_header_acts_for_its_program():
    program = make_program(quota=500)
    response = api_client(make_api_key(program=program)).get("/api/me")
    assert response.status_code == 200
    assert response.json()["program"]["slug"] == program.slug
    assert response.json()["quota_balance"] == 500


def test_api_key_as_bearer_token_is_accepted():
    program = make_program()
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(program=program)}")
    assert client.get("/api/me/").json()["program"]["slug"] == program.slug


def test_unknown_key_is_401():
    response = api_client("cid_not-a-key").get("/api/me")
    assert response.status_code == 401
    assert "API key" in response.json()["error"]


def test_no_credentials_is_401():
    assert api_client().get("/api/me").status_code == 401


def test_revoked_key_is_refused():
    program = make_program()
    key, raw = api_key_create(program=program, name="old")
    api_key_revoke(api_key=key)
    assert api_client(raw).get("/api/me").status_code == 401


def test_api_key_is_stored_hashed_and_records_last_use():
    program = make_program()
    key, raw = api_key_create(program=program, name="dhis2")
    assert raw not in key.hashed_key
    api_client(raw).get("/api/me")
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_session_user_acts_for_their_membership():
    program = make_program()
    user = make_user(program=program, role=Role.VIEWER)
    client = api_client()
    client.force_login(user)
    body = client.get("/api/me").json()
    assert (body["program"]["slug"], body["role"]) == (program.slug, "viewer")


def test_user_without_membership_is_refused():
    client = api_client()
    client.force_login(make_user())
    assert client.get("/api/me").status_code == 403


def test_quota_balance_is_the_sum_of_the_ledger():
    program = make_program(quota=1000)
    assert quota_balance(program=program) == 1000
