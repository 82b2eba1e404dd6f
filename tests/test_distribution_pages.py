"""Distribution pages through Django's test client: a campaign's distribution page, the
provider settings, the send form for one beneficiary; and the live dispatch socket."""

import asyncio
import json
from datetime import time

import pytest
import websockets
from django.test import Client

from campaigns.models import Role
from distribution.integrations import integration_config, integration_get
from distribution.models import Dispatch, Message
from tests.factories import (
    client_for,
    make_api_key,
    make_campaign,
    make_dispatch,
    make_integration,
    make_issued_cards,
    make_program,
    make_user,
    ws_ticket,
)
from tests.processes import asgi_server

pytest_plugins = ["tests.stubs.fixtures"]


@pytest.fixture
def program():
    return make_program(name="PEV Dakar")


@pytest.fixture
def campaign(program):
    return make_campaign(program=program, name="Rougeole 2026")


@pytest.fixture
def operator(program):
    return client_for(make_user(program=program, role=Role.OPERATOR), program)


@pytest.fixture
def admin(program):
    return client_for(make_user(program=program, role=Role.ADMIN), program)


@pytest.mark.django_db
def test_the_distribution_page_shows_the_message_the_form_and_the_runs(operator, campaign):
    dispatch = make_dispatch(campaign=campaign)
    response = operator.get(f"/campaigns/{campaign.pk}/distribution/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "{card_link}" in html  # the default message, editable
    assert 'name="first_channel"' in html and 'name="rate_limit_per_second"' in html
    assert f'id="dispatch-{dispatch.pk}"' in html and f"/ws/dispatches/{dispatch.pk}" in html
    assert "SMS segment" in html


@pytest.mark.django_db
def test_a_run_without_quiet_hours_reads_any_hour(operator, campaign):
    make_dispatch(campaign=campaign, window_start=time(0), window_end=time(0))
    html = operator.get(f"/campaigns/{campaign.pk}/distribution/").content.decode()
    assert "any hour" in html and "00:00\u201300:00" not in html


@pytest.mark.django_db
def test_a_dispatch_is_created_from_the_page(operator, campaign):
    response = operator.post(f"/campaigns/{campaign.pk}/distribution/dispatches/", {
        "first_channel": "whatsapp", "fallback_channel": "sms", "fallback_after_attempts": 2,
        "max_attempts": 3, "retry_delays": "30, 120", "window_start": "08:00",
        "window_end": "20:00", "weekdays": ["0", "2", "4"], "rate_limit_per_second": 15,
    })
    assert response.status_code == 302
    dispatch = Dispatch.objects.get(campaign=campaign)
    assert (dispatch.first_channel, dispatch.fallback_channel, dispatch.retry_delays,
            dispatch.weekdays, dispatch.rate_limit_per_second) == (
        "whatsapp", "sms", [30, 120], [0, 2, 4], 15)
    assert response["Location"].endswith(f"#dispatch-{dispatch.pk}")


@pytest.mark.django_db
def test_a_bad_plan_on_the_page_names_the_field(operator, campaign):
    response = operator.post(f"/campaigns/{campaign.pk}/distribution/dispatches/", {
        "first_channel": "sms", "fallback_channel": "sms", "fallback_after_attempts": 2,
        "max_attempts": 3, "retry_delays": "soon", "window_start": "08:00",
        "window_end": "20:00", "weekdays": ["0"], "rate_limit_per_second": 15,
    })
    assert response.status_code == 200
    assert "Up to 10 whole numbers" in response.content.decode()
    assert not Dispatch.objects.exists()


@pytest.mark.django_db
def test_the_message_is_saved_and_an_unknown_variable_shown(operator, campaign):
    bad = operator.post(f"/campaigns/{campaign.pk}/distribution/message/",
                        {"language": "fr", "body": "Bonjour {prenom}", "action": "save"})
    assert bad.status_code == 200 and "{prenom}" in bad.content.decode()
    good = operator.post(f"/campaigns/{campaign.pk}/distribution/message/",
                         {"language": "fr", "body": "Carte {card_code}", "action": "save"})
    assert good.status_code == 302
    assert campaign.message_templates.get(language="fr").body == "Carte {card_code}"


@pytest.mark.django_db
def test_counting_sms_shows_segments_and_cost(operator, campaign):
    response = operator.post(f"/campaigns/{campaign.pk}/distribution/message/",
                             {"language": "fr", "body": "Reçu {card_code}",
                              "action": "preview"})
    html = response.content.decode()
    assert response.status_code == 200 and "UCS-2" in html
    assert not campaign.message_templates.exists()


@pytest.mark.django_db
def test_the_buttons_start_and_pause_a_run(operator, campaign, orange_stub):
    make_integration(program=campaign.program, channel="sms", config=orange_stub.config())
    make_issued_cards(campaign=campaign, count=2, with_png=False)
    dispatch = make_dispatch(campaign=campaign)
    assert operator.post(f"/dispatches/{dispatch.pk}/start/").status_code == 302
    assert Dispatch.objects.get(pk=dispatch.pk).status == "running"
    operator.post(f"/dispatches/{dispatch.pk}/pause/")
    assert Dispatch.objects.get(pk=dispatch.pk).status == "paused"


@pytest.mark.django_db
def test_a_stopped_run_reads_stopped_not_done(operator, campaign):
    dispatch = make_dispatch(campaign=campaign)
    operator.post(f"/dispatches/{dispatch.pk}/stop/")
    page = operator.get(f"/campaigns/{campaign.pk}/distribution/",
                        HTTP_ACCEPT_LANGUAGE="en").content.decode()
    pill = page.split(f'id="dispatch-{dispatch.pk}"', 1)[1].split("</span>", 1)[0]
    assert pill.endswith("Stopped")


@pytest.mark.django_db
def test_a_viewer_sees_the_runs_but_no_controls(program, campaign):
    viewer = client_for(make_user(program=program, role=Role.VIEWER), program)
    make_dispatch(campaign=campaign)
    html = viewer.get(f"/campaigns/{campaign.pk}/distribution/").content.decode()
    assert 'name="first_channel"' not in html and 'data-action="start"' not in html
    assert viewer.post(f"/campaigns/{campaign.pk}/distribution/dispatches/",
                       {"first_channel": "sms"}).status_code == 403


@pytest.mark.django_db
def test_another_programs_pages_are_404(operator):
    theirs = make_campaign(program=make_program())
    card, = make_issued_cards(campaign=theirs, count=1, with_png=False)
    assert operator.get(f"/campaigns/{theirs.pk}/distribution/").status_code == 404
    assert operator.get(
        f"/campaigns/{theirs.pk}/beneficiaries/{card.beneficiary_id}/send/").status_code == 404
    assert operator.post(
        f"/dispatches/{make_dispatch(campaign=theirs).pk}/start/").status_code == 404


@pytest.mark.django_db
def test_settings_show_secrets_masked_and_only_admins_save(admin, operator, program):
    make_integration(program=program, channel="sms", config={
        "client_id": "orange-client", "client_secret": "orange-secret-0123456789-efgh",
        "sender_address": "tel:+2210000"})
    html = admin.get("/settings/integrations/").content.decode()
    assert "orange-secret-0123456789-efgh" not in html and "••••efgh" in html
    assert "/webhooks/orange/" in html
    form = {"enabled": "on", "client_id": "orange-client-2", "client_secret": "",
            "sender_address": "tel:+2210000", "sender_name": "SANTE"}
    assert operator.post("/settings/integrations/sms/", form).status_code == 403
    assert admin.post("/settings/integrations/sms/", form).status_code == 302
    config = integration_config(integration=integration_get(program=program, channel="sms"))
    assert config["client_id"] == "orange-client-2"
    assert config["client_secret"] == "orange-secret-0123456789-efgh"  # kept: left blank


@pytest.mark.django_db
def test_a_bad_setting_is_shown_on_its_field(admin):
    response = admin.post("/settings/integrations/sms/", {
        "client_id": "x", "client_secret": "y", "sender_address": "2210000"})
    assert response.status_code == 200
    assert "tel:+ then digits" in response.content.decode()


@pytest.mark.django_db
def test_the_test_button_shows_the_providers_verdict(admin, program, orange_stub):
    make_integration(program=program, channel="sms", config=orange_stub.config())
    response = admin.post("/settings/integrations/sms/test/", {"phone_number": "771234567"})
    assert 'data-test-ok="true"' in response.content.decode()
    assert orange_stub.sent[0]["address"] == "tel:+221771234567"


@pytest.mark.django_db
def test_one_card_is_sent_from_the_send_form(operator, campaign, orange_stub):
    make_integration(program=campaign.program, channel="sms", config=orange_stub.config())
    card, = make_issued_cards(campaign=campaign, count=1, with_png=False, first_name="Coumba")
    url = f"/campaigns/{campaign.pk}/beneficiaries/{card.beneficiary_id}/send/"
    page = operator.get(url).content.decode()
    assert "Coumba" in page and card.code in page and "{card_link}" in page
    response = operator.post(url, {"channel": "sms", "phone_number": "",
                                   "message": "Coumba: {card_code}"})
    assert 'data-send-ok="true"' in response.content.decode()
    assert orange_stub.sent[0]["outboundSMSTextMessage"]["message"] == f"Coumba: {card.code}"
    assert Message.objects.get().status == "sent"


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_the_dispatch_socket_sends_the_counters_and_refuses_outsiders():
    program = make_program()
    dispatch = make_dispatch(campaign=make_campaign(program=program))
    key, outsider = make_api_key(program=program), make_api_key(program=make_program())

    async def first_event(url):
        async with websockets.connect(url, open_timeout=20) as socket:
            return json.loads(await asyncio.wait_for(socket.recv(), timeout=10))

    async def close_code(url):
        async with websockets.connect(url, open_timeout=20) as socket:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), timeout=10)
            return closed.value.rcvd.code

    with asgi_server() as host:
        path = f"ws://{host}/ws/dispatches/{dispatch.pk}"
        event = asyncio.run(first_event(f"{path}?ticket={ws_ticket(key)}"))
        refused = asyncio.run(close_code(f"{path}?ticket={ws_ticket(outsider)}"))
    assert (event["dispatch_id"], event["status"], event["total"]) == (dispatch.pk, "draft", 0)
    assert refused == 4404


@pytest.mark.django_db
def test_support_reads_runs_and_the_send_log_in_the_admin(campaign):
    from tests.factories import make_message

    card, = make_issued_cards(campaign=campaign, count=1, with_png=False, first_name="Adama")
    message = make_message(card=card)
    dispatch = make_dispatch(campaign=campaign)
    superuser = make_user(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(superuser)
    assert client.get("/admin/distribution/dispatch/").status_code == 200
    assert client.get(f"/admin/distribution/dispatch/{dispatch.pk}/change/").status_code == 200
    listing = client.get("/admin/distribution/message/")
    assert listing.status_code == 200 and "Adama" not in listing.content.decode()
    detail = client.get(f"/admin/distribution/message/{message.pk}/change/")
    assert detail.status_code == 200 and card.beneficiary.phone not in detail.content.decode()
