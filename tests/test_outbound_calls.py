"""Outbound calls: DHIS2 uids checked before any URL is built, a user-entered address limited
to public hosts unless the operator lists others (OUTBOUND_ALLOW_PRIVATE), a changed DHIS2
address that needs its credentials again, answers read only up to a limit, and a request cut
off after it left classed as possibly delivered."""

import socket
import threading

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from campaignid import outbound_http
from campaigns.dhis2.connection import connection_config, connection_get
from campaigns.models import Role
from distribution.integrations import channel_for
from distribution.providers.adapter import ErrorKind, OutboundMessage
from distribution.providers.orange_sms.adapter import OrangeSmsChannel
from tests.factories import (
    api_client,
    make_api_key,
    make_campaign,
    make_dhis2_connection,
    make_integration,
    make_program,
    make_user,
)
from tests.stubs.asyncio_front import serve_asyncio
from tests.stubs.base import Reply
from tests.stubs.dhis2 import Dhis2Stub
from tests.stubs.orange import OrangeStub
from tests.webhook_helpers import WHATSAPP

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.stubs.dhis2_fixtures", "tests.stubs.fixtures"]



def admin_api(program):
    client = api_client(make_api_key(program=program, role=Role.ADMIN))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def put_connection(client, config):
    return client.put("/api/integrations/dhis2", {"config": config}, format="json")


def page_client(program):
    client = Client()
    client.force_login(make_user(program=program, role=Role.ADMIN))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# DHIS2 uids --------------------------------------------------------------------------------


def test_a_program_uid_that_is_a_path_reaches_no_dhis2(dhis2_stub):
    program = make_program()
    make_dhis2_connection(program=program, config=dhis2_stub.config())
    campaign = make_campaign(program=program)
    dhis2_stub.reset()
    response = page_client(program).get(
        f"/campaigns/{campaign.pk}/dhis2/", {"program_uid": "../../api/me"}
    )
    assert response.status_code == 200
    assert "is not a DHIS2 uid" in response.content.decode()
    assert not [r for r in dhis2_stub.requests if "/api/me" in r.path or ".." in r.raw_path]
    assert {r.path for r in dhis2_stub.requests} <= {"/api/programs"}


def test_the_api_refuses_a_link_whose_uid_is_not_a_uid_before_asking_dhis2(dhis2_stub):
    program = make_program()
    make_dhis2_connection(program=program, config=dhis2_stub.config())
    campaign = make_campaign(program=program)
    dhis2_stub.reset()
    response = admin_api(program).put(
        f"/api/campaigns/{campaign.pk}/dhis2",
        {"program_uid": "../me?x=IpHINAT79UW", "org_unit_uid": "ImspTQPwCqd", "mapping": {}},
        format="json",
    )
    assert response.status_code == 400
    assert "program_uid" in response.json()["fields"]
    assert dhis2_stub.requests == []


# The allow-list ----------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "http://169.254.169.254",
                                 "http://10.1.2.3", "http://[::1]:8080", "http://224.0.0.1"])
def test_private_and_reserved_addresses_are_refused_by_default(settings, url):
    settings.OUTBOUND_ALLOW_PRIVATE = []
    response = put_connection(admin_api(make_program()),
                              {"base_url": url, "auth": "token", "token": "d2pat_" + "a" * 30})
    assert response.status_code == 400
    assert "OUTBOUND_ALLOW_PRIVATE" in response.json()["fields"]["config.base_url"][0]


def test_a_host_listed_by_the_operator_is_allowed(settings, dhis2_stub):
    settings.OUTBOUND_ALLOW_PRIVATE = ["127.0.0.1"]
    response = put_connection(admin_api(make_program()), dhis2_stub.config())
    assert response.status_code == 200, response.json()


def test_a_network_listed_by_the_operator_is_allowed(settings, dhis2_stub):
    settings.OUTBOUND_ALLOW_PRIVATE = ["127.0.0.0/8"]
    response = put_connection(admin_api(make_program()), dhis2_stub.config())
    assert response.status_code == 200, response.json()


def test_a_saved_address_is_checked_again_before_each_request(settings, dhis2_stub):
    program = make_program()
    make_dhis2_connection(program=program, config=dhis2_stub.config())
    settings.OUTBOUND_ALLOW_PRIVATE = []
    dhis2_stub.reset()
    body = admin_api(program).post("/api/integrations/dhis2/test").json()
    assert body["ok"] is False
    assert body["code"] == "host_not_allowed"
    assert dhis2_stub.requests == []


# A changed address needs the credentials again ----------------------------------------------


def test_a_new_address_without_the_token_is_400_and_the_token_never_reaches_it(dhis2_stub):
    program = make_program()
    client = admin_api(program)
    put_connection(client, dhis2_stub.config())
    elsewhere = Dhis2Stub().start()
    try:
        response = put_connection(client, {"base_url": elsewhere.url, "auth": "token"})
        assert response.status_code == 400
        assert "enter the personal access token again" in (
            response.json()["fields"]["config.token"][0]
        )
        client.post("/api/integrations/dhis2/test")
        assert connection_get(program=program).base_url == dhis2_stub.url
        assert not [r for r in elsewhere.requests if "authorization" in r.headers]
    finally:
        elsewhere.stop()


def test_a_new_address_with_the_password_resent_is_saved(dhis2_stub):
    program = make_program()
    client = admin_api(program)
    put_connection(client, dhis2_stub.config(auth="basic"))
    elsewhere = Dhis2Stub().start()
    new_url = elsewhere.url
    try:
        kept = put_connection(client, {"base_url": new_url, "auth": "basic",
                                       "username": "admin"})
        resent = put_connection(client, elsewhere.config(auth="basic"))
    finally:
        elsewhere.stop()
    assert kept.status_code == 400 and "config.password" in kept.json()["fields"]
    assert resent.status_code == 200
    assert connection_config(connection=connection_get(program=program))["base_url"] == new_url


def test_the_connection_page_asks_for_the_token_again_when_the_address_changes(dhis2_stub):
    program = make_program()
    make_dhis2_connection(program=program, config=dhis2_stub.config())
    response = page_client(program).post("/dhis2/connection/", {
        "base_url": "https://dhis2.example.org", "auth": "token", "token": "", "enabled": "on",
    })
    assert response.status_code == 200
    assert "enter the personal access token again" in response.content.decode()
    assert connection_get(program=program).base_url == dhis2_stub.url


# Answers read up to a limit -----------------------------------------------------------------


def test_a_20_mb_provider_answer_is_cut_with_a_clear_error(whatsapp_stub):
    program = make_program()
    make_integration(program=program, channel="whatsapp", config=WHATSAPP)
    whatsapp_stub.reply_next(Reply(200, b"x" * (20 * 1024 * 1024)), times=5)
    with translation.override("en"):
        result = channel_for(program=program, channel="whatsapp").send(message=OutboundMessage(
            to="+221771234567", text="Hello", language="fr", idempotency_key="big-answer",
            template_params=("PEV",),
        ))
    assert not result.ok
    assert result.kind == ErrorKind.PERMANENT
    assert result.error_code == "response_too_large"
    assert "more than 1 MB" in result.detail


def test_a_dhis2_answer_over_its_limit_is_named(dhis2_stub):
    program = make_program()
    make_dhis2_connection(program=program, config=dhis2_stub.config())
    dhis2_stub.reply_next(Reply(200, b"{" + b" " * (11 * 1024 * 1024) + b"}"))
    body = admin_api(program).post("/api/integrations/dhis2/test").json()
    assert body["code"] == "response_too_large"
    assert "more than 10 MB" in body["error"]


def test_a_connection_closed_before_the_answer_may_have_delivered_the_request():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)

        def hang_up():
            peer, _ = server.accept()
            peer.recv(65536)  # the whole request arrived...
            peer.close()  # ...and no answer comes

        threading.Thread(target=hang_up, daemon=True).start()
        host, port = server.getsockname()
        with pytest.raises(outbound_http.TransportError) as raised:
            outbound_http.request("POST", f"http://{host}:{port}/send", provider="orange",
                                  json={"to": "+221771234567"})
    assert raised.value.code == "connection_lost"


def test_a_json_post_leaves_with_its_headers_and_body(orange_stub):
    outbound_http.request("POST", f"{orange_stub.url}/smsmessaging/v1/outbound/x/requests",
                          provider="orange", json={"é": [1, None]},
                          headers={"Authorization": "Bearer t0k"})
    request, = orange_stub.received("POST")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["authorization"] == "Bearer t0k"
    assert request.json == {"é": [1, None]}


def test_the_orange_stub_answers_alike_on_its_asyncio_front(settings):
    stub = serve_asyncio(OrangeStub())
    try:
        settings.ORANGE_API_URL = stub.url
        channel = OrangeSmsChannel(stub.config())
        message = OutboundMessage(to="+221771234567", text="Bonjour", idempotency_key="a1")
        first = channel.send(message=message)
        stub.expire_tokens()
        second = channel.send(message=message)
    finally:
        stub.stop()
    assert first.ok and second.ok
    assert [first.provider_message_id, second.provider_message_id] == stub.request_ids
    assert len(stub.token_requests()) == 2  # the expired token was renewed once


def test_a_fresh_process_builds_its_pools_in_either_order(monkeypatch):
    monkeypatch.setattr(outbound_http, "_session", None)
    monkeypatch.setattr(outbound_http, "_pool", None)
    built = threading.Thread(target=outbound_http._pool_manager, daemon=True)
    built.start()
    built.join(timeout=10)
    assert not built.is_alive()  # no deadlock on the module lock
    assert outbound_http._pool is not None and outbound_http._session is not None
