"""Logins and keys (issue 12, point 3): login lockouts per user and per address that a program
admin lifts, API keys and public pages rate-limited (429 with Retry-After), new keys
operators by default, WebSocket tickets instead of keys in URLs."""

import logging
import re

import pytest
import redis
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import reverse

from campaignid.client_ip import client_ip
from campaignid.log_masking import MaskSecrets, mask
from campaigns.logins import login_unlock
from campaigns.models import Membership, Role
from campaigns.services import api_key_create, api_key_revoke
from campaigns.ws_tickets import ws_ticket_issue, ws_ticket_redeem
from tests.factories import api_client, make_api_key, make_campaign, make_program, make_user

pytestmark = pytest.mark.django_db

PASSWORD = "pw-test-123"


def login(username, password, *, path="/login/", address="127.0.0.1", language="en"):
    client = Client(REMOTE_ADDR=address)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client, client.post(path, {"username": username, "password": password})


def fail_logins(username, times, *, path="/login/", address="127.0.0.1"):
    for _ in range(times):
        login(username, "wrong-password", path=path, address=address)


def staff_admin_client(program):
    user = make_user(program=program, role=Role.ADMIN, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(
        content_type__app_label="campaigns", codename__in=["view_membership", "change_membership"]
    ))
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client, user


# Logins


def test_five_wrong_passwords_block_the_right_one_with_a_clear_message():
    user = make_user(program=make_program())
    fail_logins(user.username, settings.AXES_FAILURE_LIMIT)

    client, response = login(user.username, PASSWORD)

    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert "15 minutes" in response.content.decode()
    assert client.get("/").status_code == 302  # not logged in


def test_the_lockout_page_speaks_the_visitors_language():
    user = make_user(program=make_program())
    fail_logins(user.username, settings.AXES_FAILURE_LIMIT)

    _client, response = login(user.username, PASSWORD, language="fr")

    assert "Trop de connexions échouées" in response.content.decode()


def test_a_user_name_is_locked_whatever_address_the_failures_came_from():
    user = make_user(program=make_program())
    for n in range(settings.AXES_FAILURE_LIMIT):
        fail_logins(user.username, 1, address=f"10.0.0.{n + 1}")

    _client, response = login(user.username, PASSWORD, address="10.9.9.9")

    assert response.status_code == 429


def test_an_address_is_locked_whatever_user_names_it_tried():
    program = make_program()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        fail_logins(make_user(program=program).username, 1, address="10.1.1.1")

    _client, response = login(make_user(program=program).username, PASSWORD, address="10.1.1.1")

    assert response.status_code == 429


def test_fewer_failures_than_the_limit_still_let_the_right_password_in():
    user = make_user(program=make_program())
    fail_logins(user.username, settings.AXES_FAILURE_LIMIT - 1)

    _client, response = login(user.username, PASSWORD)

    assert response.status_code == 302


def test_the_admin_login_is_locked_out_too():
    user = make_user(program=make_program(), is_staff=True)
    fail_logins(user.username, settings.AXES_FAILURE_LIMIT, path="/admin/login/")

    _client, response = login(user.username, PASSWORD, path="/admin/login/")

    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()


def test_a_program_admin_unlocks_a_member_in_the_admin():
    program = make_program()
    member = make_user(program=program)
    fail_logins(member.username, settings.AXES_FAILURE_LIMIT)
    admin_client, _admin = staff_admin_client(program)
    membership = Membership.objects.get(user=member)
    changelist = reverse("admin:campaigns_membership_changelist")
    assert "Login locked" in admin_client.get(changelist).content.decode()

    admin_client.post(changelist, {"action": "unlock_logins", "_selected_action": [membership.pk]})

    _client, response = login(member.username, PASSWORD)
    assert response.status_code == 302


def test_a_program_admin_cannot_unlock_a_user_of_another_program():
    outsider = make_user(program=make_program())
    _client, admin = staff_admin_client(make_program())

    with pytest.raises(PermissionDenied):
        login_unlock(user=outsider, by=admin)


def test_a_program_operator_cannot_unlock_anyone():
    program = make_program()
    member = make_user(program=program)
    fail_logins(member.username, settings.AXES_FAILURE_LIMIT)
    operator = make_user(program=program, role=Role.OPERATOR, is_staff=True)
    client = Client()
    client.force_login(operator)

    client.post(reverse("admin:campaigns_membership_changelist"), {
        "action": "unlock_logins",
        "_selected_action": [Membership.objects.get(user=member).pk],
    })

    _client, response = login(member.username, PASSWORD)
    assert response.status_code == 429


def test_the_client_address_is_read_behind_the_trusted_proxies_only(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7"
    )
    assert client_ip(request) == "127.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.7"


# Rate limits


@pytest.fixture
def api_rate(settings):
    def set_rate(rate):
        rates = dict(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], api_key=rate, address=rate)
        settings.REST_FRAMEWORK = dict(settings.REST_FRAMEWORK, DEFAULT_THROTTLE_RATES=rates)
    return set_rate


def test_an_api_key_beyond_its_rate_gets_429_with_retry_after_and_a_json_error(api_rate):
    api_rate("3/day")
    client = api_client(make_api_key(program=make_program()))
    assert [client.get("/api/me").status_code for _ in range(3)] == [200, 200, 200]

    response = client.get("/api/me")

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 86400
    assert set(response.json()) == {"error"}


def test_each_api_key_has_its_own_count(api_rate):
    api_rate("1/day")
    program = make_program()
    api_client(make_api_key(program=program)).get("/api/me")

    assert api_client(make_api_key(program=program)).get("/api/me").status_code == 200


def test_the_public_card_page_is_limited_per_address_with_a_page_in_the_visitors_language(
    settings,
):
    settings.PUBLIC_RATE_LIMIT = "2/day"
    visitor = Client(REMOTE_ADDR="198.51.100.4")
    for _ in range(2):
        visitor.get("/v/c/DKR-VAC-AAAAAAAA")

    response = visitor.get("/v/c/DKR-VAC-AAAAAAAA?lang=en")

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many requests from your address" in response.content.decode()
    assert "Trop de requêtes" in visitor.get("/v/?lang=fr").content.decode()
    assert Client(REMOTE_ADDR="198.51.100.5").get("/v/c/DKR-VAC-AAAAAAAA").status_code == 404


def test_the_published_keys_are_limited_per_address_with_a_json_error(settings):
    settings.PUBLIC_RATE_LIMIT = "1/day"
    Client().get("/.well-known/campaignid-keys.json")

    response = Client().get("/.well-known/campaignid-keys.json")

    assert response.status_code == 429
    assert set(response.json()) == {"error"}


def test_the_registry_is_limited_per_address_whatever_the_key(api_rate):
    api_rate("1/day")
    program = make_program()
    campaign = make_campaign(program=program)
    api_client(make_api_key(program=program)).get(f"/api/campaigns/{campaign.pk}/registry.json")

    response = api_client(make_api_key(program=program)).get(
        f"/api/campaigns/{campaign.pk}/registry.json"
    )

    assert response.status_code == 429


# New keys


def test_a_new_key_is_an_operator_unless_asked():
    key, _raw = api_key_create(program=make_program(), name="integration")
    assert key.role == Role.OPERATOR


def test_the_create_api_key_command_makes_an_operator_by_default(capsys):
    program = make_program()
    call_command("create_api_key", "--program", program.slug)
    raw = capsys.readouterr().out.strip().splitlines()[-1]
    assert api_client(raw).get("/api/me").json()["role"] == "operator"


def test_the_admin_key_form_proposes_operator():
    user = make_user(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    page = client.get(reverse("admin:campaigns_apikey_add")).content.decode()
    assert re.search(r'<option value="operator" selected>', page)


# WebSocket tickets


def test_a_key_gets_a_ticket_that_expires_in_30_seconds():
    response = api_client(make_api_key(program=make_program())).post("/api/ws-tickets")

    assert response.status_code == 201
    assert response.json()["expires_in"] == 30
    ttl = [redis.Redis.from_url(settings.REDIS_URL).ttl(k) for k in
           redis.Redis.from_url(settings.REDIS_URL).keys("ws-ticket:*")]
    assert len(ttl) == 1 and 0 < ttl[0] <= 30


def test_a_browser_session_gets_no_ticket():
    client = Client()
    client.force_login(make_user(program=make_program()))
    assert client.post("/api/ws-tickets").status_code == 403


def test_a_ticket_is_redeemed_once():
    program = make_program()
    key, _raw = api_key_create(program=program, name="ws")
    ticket = ws_ticket_issue(api_key=key)

    assert ws_ticket_redeem(ticket=ticket) == key
    assert ws_ticket_redeem(ticket=ticket) is None


def test_a_ticket_of_a_revoked_key_opens_nothing():
    key, _raw = api_key_create(program=make_program(), name="ws")
    ticket = ws_ticket_issue(api_key=key)
    api_key_revoke(api_key=key)

    assert ws_ticket_redeem(ticket=ticket) is None


def test_the_ticket_endpoint_is_in_the_openapi_document():
    client = Client()
    client.force_login(make_user(program=make_program()))
    schema = client.get("/api/schema/?format=json").json()
    assert "post" in schema["paths"]["/api/ws-tickets/"]


# Log lines


def test_secrets_in_urls_and_headers_are_masked():
    line = mask(
        'GET /ws/jobs/1?ticket=T1cket-value&x=1 /webhooks/orange/0range-secret '
        "{'Authorization': 'Bearer cid_abcdefghijklmnopqrstuv', 'X-API-Key': 'k3y-value'}"
    )
    for secret in ("T1cket-value", "0range-secret", "cid_abcdefghijklmnopqrstuv", "k3y-value"):
        assert secret not in line
    assert "/ws/jobs/1?ticket=****&x=1" in line


def test_the_access_log_prints_the_masked_url(caplog):
    logger = logging.getLogger("uvicorn.access")
    assert any(isinstance(f, MaskSecrets) for f in logger.filters)
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET",
                    "/ws/jobs/1?ticket=s3cret-ticket", "1.1", 101)
    assert "s3cret-ticket" not in caplog.text
    assert caplog.records[-1].args[2] == "/ws/jobs/1?ticket=****"

