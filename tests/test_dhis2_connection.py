"""GET/PUT /api/integrations/dhis2 and POST .../test against a stub DHIS2 (and against
addresses that fail in each way an operator meets: DNS, refused, TLS, timeout, 401...)."""

import pytest

from campaigns.dhis2.connection import connection_config, connection_get
from campaigns.dhis2.models import Dhis2Connection
from campaigns.models import Role
from tests.factories import api_client, make_api_key, make_dhis2_connection, make_program
from tests.processes import free_port
from tests.stubs.base import Reply
from tests.stubs.dhis2 import TlsDhis2Stub

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.stubs.dhis2_fixtures"]


def admin(program, language="en"):
    client = api_client(make_api_key(program=program, role=Role.ADMIN))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    return client


def put(client, config, **extra):
    return client.put("/api/integrations/dhis2", {"config": config, **extra}, format="json")


def test_unconfigured_connection_reads_as_blank_and_disabled():
    body = admin(make_program()).get("/api/integrations/dhis2").json()
    assert (body["enabled"], body["configured"]) == (False, False)
    assert body["config"] == dict.fromkeys(
        ["base_url", "auth", "token", "username", "password"], ""
    )


def test_admin_saves_a_token_connection_and_the_token_comes_back_masked(dhis2_stub):
    program = make_program()
    response = put(admin(program), dhis2_stub.config(), enabled=True)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["enabled"] and body["configured"]
    assert body["config"]["token"] == "••••" + dhis2_stub.token[-4:]
    assert dhis2_stub.token not in response.content.decode()
    assert body["config"]["base_url"] == dhis2_stub.url


def test_the_config_is_encrypted_at_rest(dhis2_stub):
    program = make_program()
    put(admin(program), dhis2_stub.config(auth="basic"))
    row = Dhis2Connection.objects.get(program=program)
    assert dhis2_stub.password not in row.config_encrypted
    assert connection_config(connection=row)["password"] == dhis2_stub.password


def test_a_put_without_the_secret_keeps_the_stored_one(dhis2_stub):
    program = make_program()
    client = admin(program)
    put(client, dhis2_stub.config())
    response = put(client, {"base_url": dhis2_stub.url + "/", "auth": "token", "token": "••••"})
    assert response.status_code == 200
    stored = connection_config(connection=connection_get(program=program))
    assert stored["token"] == dhis2_stub.token


def test_switching_to_basic_drops_the_token_and_needs_a_password(dhis2_stub):
    program = make_program()
    client = admin(program)
    put(client, dhis2_stub.config())
    response = put(client, {"base_url": dhis2_stub.url, "auth": "basic", "username": "admin"})
    assert response.status_code == 400
    assert response.json()["fields"] == {"config.password": ["This setting is required."]}
    put(client, dhis2_stub.config(auth="basic"))
    stored = connection_config(connection=connection_get(program=program))
    assert "token" not in stored and stored["username"] == "admin"


@pytest.mark.parametrize(("config", "field"), [
    ({"base_url": "ftp://dhis2.example.org", "auth": "token", "token": "d2pat_x"}, "base_url"),
    ({"base_url": "https://dhis2.example.org?x=1", "auth": "token", "token": "d2pat_x"},
     "base_url"),
    ({"base_url": "https://dhis2.example.org", "auth": "oauth", "token": "d2pat_x"}, "auth"),
    ({"base_url": "https://dhis2.example.org", "auth": "token", "token": "abc"}, "token"),
    ({"base_url": "https://dhis2.example.org", "auth": "token", "token": "d2pat_x",
      "colour": "red"}, "colour"),
])
def test_bad_settings_are_400_naming_the_setting(config, field):
    response = put(admin(make_program()), config)
    assert response.status_code == 400
    assert f"config.{field}" in response.json()["fields"]


def test_the_api_root_pasted_as_url_is_trimmed_to_the_dhis2_root():
    program = make_program()
    put(admin(program), {"base_url": "https://dhis2.example.org/hmis/api/40/", "auth": "token",
                         "token": "d2pat_abcdefghijklmnop"})
    assert connection_get(program=program).base_url == "https://dhis2.example.org/hmis"


def test_an_operator_reads_but_cannot_change_the_connection(dhis2_stub):
    program = make_program()
    operator = api_client(make_api_key(program=program, role=Role.OPERATOR))
    assert operator.get("/api/integrations/dhis2").status_code == 200
    assert put(operator, dhis2_stub.config()).status_code == 403


def test_programs_do_not_see_each_others_connection(dhis2_stub):
    program, other = make_program(), make_program()
    make_dhis2_connection(program=other, config=dhis2_stub.config())
    body = admin(program).get("/api/integrations/dhis2").json()
    assert body["configured"] is False


# Test connection ----------------------------------------------------------------------------


def run_test(program):
    return admin(program).post("/api/integrations/dhis2/test", {}, format="json")


def test_the_test_answers_the_version_and_user_of_a_working_connection(dhis2_stub):
    program = make_program()
    make_dhis2_connection(program=program, config=dhis2_stub.config(auth="basic"), enabled=False)
    body = run_test(program).json()
    assert body["ok"] is True
    assert (body["version"], body["username"], body["tracker_shape"]) == ("2.41.1", "admin",
                                                                          "pager")


def test_the_test_is_409_without_a_saved_connection():
    response = run_test(make_program())
    assert response.status_code == 409
    assert "DHIS2 is not set up" in response.json()["error"]


def test_a_refused_token_is_named(dhis2_stub):
    program = make_program()
    make_dhis2_connection(program=program, config={**dhis2_stub.config(),
                                                   "token": "d2pat_wrong0000000000000"})
    body = run_test(program).json()
    assert (body["ok"], body["code"]) == (False, "unauthorized")
    assert "refused the personal access token (401)" in body["error"]


def test_a_refused_password_is_named(dhis2_stub):
    program = make_program()
    make_dhis2_connection(program=program, config={**dhis2_stub.config(auth="basic"),
                                                   "password": "wrong"})
    body = run_test(program).json()
    assert body["code"] == "unauthorized"
    assert "user name or password (401)" in body["error"]


def test_a_403_is_named(dhis2_stub):
    program = make_program()
    make_dhis2_connection(program=program, config=dhis2_stub.config())
    dhis2_stub.reply_next(Reply(403, {"httpStatus": "Forbidden", "message": "Access denied"}),
                          match=lambda r: r.path == "/api/me")
    body = run_test(program).json()
    assert body["code"] == "forbidden"
    assert "not allowed to read /api/me (403)" in body["error"]


def test_an_unknown_host_is_named_as_dns():
    program = make_program()
    make_dhis2_connection(program=program, config={
        "base_url": "https://dhis2.campaignid.invalid", "auth": "token",
        "token": "d2pat_abcdefghijklmnopqrstuvwxyz"})
    body = run_test(program).json()
    assert body["code"] == "dns"
    assert "dhis2.campaignid.invalid cannot be found (DNS)" in body["error"]


def test_a_closed_port_is_named_as_cannot_connect():
    program = make_program()
    make_dhis2_connection(program=program, config={
        "base_url": f"http://127.0.0.1:{free_port()}", "auth": "token",
        "token": "d2pat_abcdefghijklmnopqrstuvwxyz"})
    body = run_test(program).json()
    assert body["code"] == "connection"
    assert "Cannot connect to DHIS2 at 127.0.0.1" in body["error"]


def test_an_untrusted_certificate_is_named_as_tls():
    stub = TlsDhis2Stub().start()
    try:
        program = make_program()
        make_dhis2_connection(program=program, config=stub.config())
        body = run_test(program).json()
    finally:
        stub.stop()
    assert body["code"] == "tls"
    assert "secure connection (TLS)" in body["error"]


def test_a_server_that_does_not_answer_in_time_is_named(dhis2_stub, settings):
    settings.DHIS2_TIMEOUT_SECONDS = 0.3
    program = make_program()
    make_dhis2_connection(program=program, config=dhis2_stub.config())
    dhis2_stub.delay_next(1.5)
    body = run_test(program).json()
    assert body["code"] == "timeout"
    assert "did not answer within 0.3 seconds" in body["error"]


def test_an_address_that_is_not_dhis2_is_named(dhis2_stub):
    program = make_program()
    make_dhis2_connection(program=program, config={**dhis2_stub.config(),
                                                   "base_url": dhis2_stub.url + "/portal"})
    body = run_test(program).json()
    assert body["code"] == "not_dhis2"
    assert "not like a DHIS2 server" in body["error"]


def test_a_redirect_says_which_address_to_use(dhis2_stub):
    program = make_program()
    make_dhis2_connection(program=program, config=dhis2_stub.config())
    dhis2_stub.reply_next(Reply(301, b"", {"Location": "https://dhis2.example.org/api/system/info"}))
    body = run_test(program).json()
    assert body["code"] == "redirect"
    assert "use that address" in body["error"] and "https://dhis2.example.org" in body["error"]


def test_a_dhis2_older_than_2_38_is_refused_by_name(dhis2_stub):
    dhis2_stub.version = "2.37.9"
    program = make_program()
    make_dhis2_connection(program=program, config=dhis2_stub.config())
    body = run_test(program).json()
    assert body["code"] == "unsupported_version"
    assert "2.37.9" in body["error"]


def test_errors_answer_in_the_callers_language(dhis2_stub):
    client = admin(make_program(), language="fr")
    response = put(client, {"base_url": dhis2_stub.url, "auth": "basic", "username": "admin"})
    assert response.headers["Content-Language"] == "fr"
    assert response.json()["fields"] == {"config.password": ["Ce réglage est obligatoire."]}
