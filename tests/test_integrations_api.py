"""GET/PUT /api/integrations/<channel> and POST .../test, the test sending through the stubs."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from campaigns.models import Role
from distribution.integrations import integration_config, integration_get
from tests import webhook_helpers
from tests.factories import api_client, make_api_key, make_integration, make_program, make_user
from tests.stubs.google import service_account_key
from tests.webhook_helpers import WHATSAPP

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.stubs.fixtures"]

SMS = {**webhook_helpers.SMS, "sender_name": "SANTE-SN"}


def wallet_config():
    return {
        "issuer_id": "3388000000022212345",
        "service_account_email": "wallet@campaignid-test.iam.gserviceaccount.com",
        "private_key": service_account_key()[0],
        "class_suffix": "beneficiary_card",
    }


def admin(program):
    return api_client(make_api_key(program=program, role=Role.ADMIN))


def put(client, channel, config, **extra):
    return client.put(f"/api/integrations/{channel}", {"config": config, **extra}, format="json")


def test_unconfigured_channel_reads_as_blank_and_disabled():
    body = admin(make_program()).get("/api/integrations/whatsapp").json()
    assert (body["enabled"], body["configured"]) == (False, False)
    assert body["config"] == dict.fromkeys(WHATSAPP, "")


def test_admin_saves_settings_and_secrets_come_back_masked():
    response = put(admin(make_program()), "whatsapp", WHATSAPP, enabled=True)
    assert response.status_code == 200
    body = response.json()
    assert body["enabled"] and body["configured"]
    assert body["config"]["access_token"] == "••••abcd"
    assert body["config"]["app_secret"] == "••••wxyz"
    assert body["config"]["phone_number_id"] == "106540352242922"


def test_get_never_shows_a_secret():
    program = make_program()
    make_integration(program=program, channel="sms", config=SMS)
    body = admin(program).get("/api/integrations/sms/").json()
    assert body["config"] == {**SMS, "client_secret": "••••efgh"}
    assert "orange-secret-0123456789-efgh" not in str(body)


def test_settings_are_encrypted_at_rest():
    program = make_program()
    integration = make_integration(program=program, channel="whatsapp", config=WHATSAPP)
    assert WHATSAPP["access_token"] not in integration.config_encrypted
    assert "card_ready" not in integration.config_encrypted
    assert integration_config(integration=integration) == WHATSAPP


def test_account_id_is_kept_in_clear_for_webhooks():
    integration = make_integration(program=make_program(), channel="whatsapp", config=WHATSAPP)
    assert integration.account_id == "106540352242922"


def test_put_without_secrets_keeps_the_stored_ones():
    program = make_program()
    make_integration(program=program, channel="whatsapp", config=WHATSAPP)
    changed = {k: v for k, v in WHATSAPP.items()
               if k not in ("access_token", "app_secret", "verify_token")}
    response = put(admin(program), "whatsapp", {**changed, "template_name": "card_ready_v2"})
    assert response.status_code == 200
    stored = integration_config(integration=integration_get(program=program, channel="whatsapp"))
    assert stored == {**WHATSAPP, "template_name": "card_ready_v2"}


def test_put_echoing_the_masked_secret_keeps_the_stored_one():
    program = make_program()
    make_integration(program=program, channel="sms", config=SMS)
    client = admin(program)
    shown = client.get("/api/integrations/sms").json()["config"]
    assert put(client, "sms", shown).status_code == 200
    stored = integration_config(integration=integration_get(program=program, channel="sms"))
    assert stored["client_secret"] == SMS["client_secret"]


def test_put_that_omits_enabled_keeps_it():
    program = make_program()
    make_integration(program=program, channel="sms", config=SMS, enabled=True)
    assert put(admin(program), "sms", SMS).json()["enabled"] is True


def test_missing_required_setting_is_named():
    config = {k: v for k, v in WHATSAPP.items() if k != "template_name"}
    response = put(admin(make_program()), "whatsapp", config)
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["config.template_name"]
    assert response.json()["error"].startswith("config.template_name")


def test_first_save_needs_every_secret():
    config = {k: v for k, v in SMS.items() if k != "client_secret"}
    response = put(admin(make_program()), "sms", config)
    assert response.status_code == 400 and "config.client_secret" in response.json()["fields"]


@pytest.mark.parametrize("name", ["SANTE-SENEGAL", "Santé", "SANTE SN", "1234567"])
def test_sender_name_must_be_at_most_11_letters_or_digits(name):
    response = put(admin(make_program()), "sms", {**SMS, "sender_name": name})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["config.sender_name"]


def test_sender_name_is_optional():
    assert put(admin(make_program()), "sms", {**SMS, "sender_name": ""}).status_code == 200


def test_sender_address_must_be_a_tel_uri():
    response = put(admin(make_program()), "sms", {**SMS, "sender_address": "+2210000"})
    assert list(response.json()["fields"]) == ["config.sender_address"]


def test_unknown_setting_is_refused_by_name():
    response = put(admin(make_program()), "sms", {**SMS, "api_key": "x"})
    assert response.status_code == 400 and "config.api_key" in response.json()["fields"]


def test_wallet_key_must_be_an_rsa_private_key():
    ec_key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    for bad in ("not a key", ec_key):
        response = put(admin(make_program()), "wallet", {**wallet_config(), "private_key": bad})
        assert list(response.json()["fields"]) == ["config.private_key"]


def test_wallet_key_pasted_from_the_json_key_file_is_accepted():
    escaped = wallet_config()["private_key"].replace("\n", "\\n")
    program = make_program()
    response = put(admin(program), "wallet", {**wallet_config(), "private_key": escaped})
    assert response.status_code == 200
    assert response.json()["config"]["private_key"] == "•••• RSA private key"
    stored = integration_config(integration=integration_get(program=program, channel="wallet"))
    assert stored["private_key"] == wallet_config()["private_key"]


def test_only_an_admin_may_change_settings():
    program = make_program()
    operator = api_client(make_api_key(program=program, role=Role.OPERATOR))
    assert put(operator, "sms", SMS).status_code == 403
    assert integration_get(program=program, channel="sms") is None


def test_viewer_reads_the_masked_settings():
    program = make_program()
    make_integration(program=program, channel="sms", config=SMS)
    client = api_client()
    client.force_login(make_user(program=program, role=Role.VIEWER))
    body = client.get("/api/integrations/sms").json()
    assert body["config"]["client_secret"] == "••••efgh"


def test_another_program_never_sees_this_programs_settings():
    mine, theirs = make_program(), make_program()
    make_integration(program=mine, channel="sms", config=SMS)
    body = admin(theirs).get("/api/integrations/sms").json()
    assert body["configured"] is False and body["config"]["client_id"] == ""


def test_saving_for_one_program_leaves_the_other_untouched():
    mine, theirs = make_program(), make_program()
    make_integration(program=theirs, channel="sms", config=SMS)
    put(admin(mine), "sms", {**SMS, "client_id": "mine"})
    stored = integration_config(integration=integration_get(program=theirs, channel="sms"))
    assert stored["client_id"] == "orange-client"


def test_unknown_channel_is_404():
    assert admin(make_program()).get("/api/integrations/telegram").status_code == 404


def test_anonymous_caller_is_refused():
    assert api_client().get("/api/integrations/sms").status_code == 401


def test_test_button_sends_a_whatsapp_message_through_the_provider(whatsapp_stub):
    program = make_program(country="SN")
    make_integration(program=program, channel="whatsapp", config=whatsapp_stub.config(),
                     enabled=False)
    response = admin(program).post("/api/integrations/whatsapp/test",
                                   {"phone_number": "77 123 45 67"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True and body["provider_message_id"].startswith("wamid.")
    assert body["kind"] is None
    message, = whatsapp_stub.message_requests()
    assert message.json["to"] == "221771234567" and message.json["type"] == "image"


def test_test_button_reports_the_providers_refusal(orange_stub):
    program = make_program()
    make_integration(program=program, channel="sms",
                     config=orange_stub.config(client_secret="wrong-secret-0000"))
    body = admin(program).post("/api/integrations/sms/test/",
                               {"phone_number": "+221771234567"}, format="json").json()
    assert (body["ok"], body["kind"], body["error_code"]) == (False, "account", "token_http_401")
    assert "credentials" in body["detail"]


def test_test_button_sends_one_sms(orange_stub):
    program = make_program()
    make_integration(program=program, channel="sms", config=orange_stub.config())
    body = admin(program).post("/api/integrations/sms/test",
                               {"phone_number": "+221771234567"}, format="json").json()
    assert body["ok"] and body["provider_message_id"] == orange_stub.request_ids[0]
    assert program.name in orange_stub.sent[0]["outboundSMSTextMessage"]["message"]


def test_test_button_names_a_bad_phone_number(orange_stub):
    program = make_program()
    make_integration(program=program, channel="sms", config=orange_stub.config())
    response = admin(program).post("/api/integrations/sms/test", {"phone_number": "77 12"},
                                   format="json")
    assert response.status_code == 400 and "phone_number" in response.json()["fields"]
    assert orange_stub.requests == []


def test_test_button_makes_a_wallet_link(google_stub):
    program = make_program()
    make_integration(program=program, channel="wallet", config=google_stub.config())
    body = admin(program).post("/api/integrations/wallet/test", {}, format="json").json()
    assert body["ok"] and body["link"].startswith("https://pay.google.com/gp/v/save/")
    assert f"{google_stub.issuer_id}.beneficiary_card" in google_stub.classes


def test_test_button_without_settings_is_a_conflict():
    response = admin(make_program()).post("/api/integrations/sms/test",
                                          {"phone_number": "+221771234567"}, format="json")
    assert response.status_code == 409


def test_test_button_uses_the_callers_program_only(orange_stub):
    mine, theirs = make_program(), make_program()
    make_integration(program=theirs, channel="sms", config=orange_stub.config())
    response = admin(mine).post("/api/integrations/sms/test", {"phone_number": "+221771234567"},
                                format="json")
    assert response.status_code == 409 and orange_stub.requests == []


def test_viewer_cannot_press_test():
    program = make_program()
    make_integration(program=program, channel="sms", config=SMS)
    viewer = api_client(make_api_key(program=program, role=Role.VIEWER))
    response = viewer.post("/api/integrations/sms/test", {"phone_number": "+221771234567"},
                           format="json")
    assert response.status_code == 403


def test_schema_documents_the_integration_routes():
    schema = admin(make_program()).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/integrations/{channel}/" in schema["paths"]
    assert "/api/integrations/{channel}/test/" in schema["paths"]
    assert set(schema["paths"]["/api/integrations/{channel}/"]) >= {"get", "put"}
