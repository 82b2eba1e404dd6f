"""Opt-out from the person: a STOP reply over Orange SMS or WhatsApp opts the sender out, the
`opted_out` import column does too, the default texts say how, and nothing is sent to an
opted-out person afterwards (dispatch, single send, DHIS2 send-card)."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime

from campaigns.access import SESSION_PROGRAM_KEY
from campaigns.models import Beneficiary, Role
from campaigns.opt_out import is_stop_message
from distribution.dispatch.progress import dispatch_counters
from distribution.dispatch.runs import dispatch_start
from distribution.message_templates import DEFAULT_TEMPLATES, OPT_OUT_HINTS
from distribution.models import Dispatch
from tests.admin_helpers import admin_url, superuser_client
from tests.dispatch_helpers import dispatch_done, recipients, work_until
from tests.factories import (
    api_client,
    make_api_key,
    make_beneficiary,
    make_campaign,
    make_dispatch,
    make_integration,
    make_issued_cards,
    make_program,
    make_user,
)
from tests.webhook_helpers import APP_SECRET, SMS

pytest_plugins = ["tests.stubs.fixtures"]


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def few_senders(settings):
    settings.DISPATCH_SEND_CONCURRENCY = 4


def open_plan():
    from datetime import time

    return {"window_start": time(0, 0), "window_end": time(0, 0), "weekdays": list(range(7)),
            "retry_delays": [0]}


def orange_inbound(text, sender="tel:+22177" + "0000001"):
    return {"inboundSMSMessageNotification": {
        "callbackData": "cb-1",
        "inboundSMSMessage": {
            "dateTime": "2026-12-04T10:00:00Z", "destinationAddress": "tel:+2210000",
            "messageId": "mo-1", "message": text, "senderAddress": sender,
            "resourceURL": "https://api.orange.com/smsmessaging/v1/inbound/registrations/x/"
                           "messages/mo-1"}}}


def post_orange(integration, payload):
    return Client().post(f"/webhooks/orange/{integration.webhook_token}", payload,
                         content_type="application/json")


def whatsapp_inbound(text, *, phone_number_id, sender="221770000001", kind="text"):
    message = {"from": sender, "id": "wamid.IN1", "timestamp": "1767000000", "type": kind}
    message[kind] = {"body": text} if kind == "text" else {"text": text, "payload": text}
    return {"object": "whatsapp_business_account", "entry": [{"id": "1022", "changes": [
        {"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "221338000000",
                         "phone_number_id": phone_number_id},
            "contacts": [{"profile": {"name": "Awa"}, "wa_id": sender}],
            "messages": [message],
        }}]}]}


def post_whatsapp(payload, secret=APP_SECRET):
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return Client().post("/webhooks/whatsapp", body, content_type="application/json",
                         HTTP_X_HUB_SIGNATURE_256=signature)


def whatsapp_config(stub):
    return stub.config(app_secret=APP_SECRET)


# The words ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["STOP", "stop", "  Stop \n", "ARRÊT", "arret", "Arrêt",
                                  "BAYIL", "bayil", "Stop."])
def test_a_stop_word_alone_is_an_opt_out(text):
    assert is_stop_message(text)


@pytest.mark.parametrize("text", ["", "stop the messages please", "STOPPER", "merci", "ok"])
def test_other_messages_are_not(text):
    assert not is_stop_message(text)


# Orange SMS replies ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_sms_stop_opts_the_sender_out_and_the_next_dispatch_skips_them(orange_stub):
    campaign = make_campaign(program=make_program())
    sms = make_integration(program=campaign.program, channel="sms", config=orange_stub.config())
    stopper, other = make_issued_cards(campaign=campaign, count=2, with_png=False)
    response = post_orange(sms, orange_inbound("Stop", sender="tel:" + stopper.beneficiary.phone))
    assert response.status_code == 200 and response.json()["opted_out"] == 1
    person = Beneficiary.objects.get(pk=stopper.beneficiary_id)
    assert person.opted_out_at is not None and person.opted_out_source == "sms"
    dispatch = make_dispatch(campaign=campaign, first_channel="sms", **open_plan())
    dispatch_start(dispatch=dispatch)
    work_until(dispatch_done(dispatch))
    assert [m["address"] for m in orange_stub.sent] == [f"tel:{other.beneficiary.phone}"]
    assert recipients(dispatch)[stopper.beneficiary_id].skip_reason == "opted_out"
    counters = dispatch_counters(Dispatch.objects.get(pk=dispatch.pk))
    assert counters["skipped_reasons"] == {"opted_out": 1}


@pytest.mark.django_db
def test_an_sms_in_national_format_matches_the_e164_phone():
    campaign = make_campaign(program=make_program())
    sms = make_integration(program=campaign.program, channel="sms", config=SMS)
    person = make_beneficiary(campaign=campaign, phone="+221771234567")
    post_orange(sms, orange_inbound("ARRÊT", sender="tel:771234567"))
    assert Beneficiary.objects.get(pk=person.pk).opted_out_source == "sms"


@pytest.mark.django_db
def test_an_sms_that_is_not_a_stop_word_changes_nothing():
    campaign = make_campaign(program=make_program())
    sms = make_integration(program=campaign.program, channel="sms", config=SMS)
    person = make_beneficiary(campaign=campaign, phone="+221771234567")
    response = post_orange(sms, orange_inbound("stop sending please", "tel:+221771234567"))
    assert response.json() == {"opted_out": 0, "ignored": 1}
    assert Beneficiary.objects.get(pk=person.pk).opted_out_at is None


@pytest.mark.django_db
def test_a_stop_opts_out_only_in_the_integrations_program():
    ours, theirs = make_program(), make_program()
    sms = make_integration(program=ours, channel="sms", config=SMS)
    mine = make_beneficiary(campaign=make_campaign(program=ours), phone="+221771234567")
    other = make_beneficiary(campaign=make_campaign(program=theirs), phone="+221771234567")
    post_orange(sms, orange_inbound("STOP", "tel:+221771234567"))
    assert Beneficiary.objects.get(pk=mine.pk).opted_out_at is not None
    assert Beneficiary.objects.get(pk=other.pk).opted_out_at is None


@pytest.mark.django_db
def test_a_second_stop_keeps_the_first_date_and_source():
    campaign = make_campaign(program=make_program())
    sms = make_integration(program=campaign.program, channel="sms", config=SMS)
    earlier = timezone.now() - timedelta(days=30)
    person = make_beneficiary(campaign=campaign, phone="+221771234567", opted_out_at=earlier,
                              opted_out_source="import")
    post_orange(sms, orange_inbound("STOP", "tel:+221771234567"))
    person.refresh_from_db()
    assert (person.opted_out_at, person.opted_out_source) == (earlier, "import")


@pytest.mark.django_db
def test_a_stop_on_an_unknown_secret_is_404_and_changes_nothing():
    campaign = make_campaign(program=make_program())
    make_integration(program=campaign.program, channel="sms", config=SMS)
    person = make_beneficiary(campaign=campaign, phone="+221771234567")
    response = Client().post("/webhooks/orange/not-a-secret", orange_inbound("STOP",
                             "tel:+221771234567"), content_type="application/json")
    assert response.status_code == 404
    assert Beneficiary.objects.get(pk=person.pk).opted_out_at is None


# WhatsApp replies --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_whatsapp_stop_opts_the_sender_out_and_the_next_dispatch_skips_them(whatsapp_stub):
    campaign = make_campaign(program=make_program())
    make_integration(program=campaign.program, channel="whatsapp",
                     config=whatsapp_config(whatsapp_stub))
    stopper, other = make_issued_cards(campaign=campaign, count=2)
    payload = whatsapp_inbound("bayil", phone_number_id=whatsapp_stub.phone_number_id,
                               sender=stopper.beneficiary.phone[1:])
    response = post_whatsapp(payload)
    assert response.status_code == 200 and response.json()["opted_out"] == 1
    assert Beneficiary.objects.get(pk=stopper.beneficiary_id).opted_out_source == "whatsapp"
    dispatch = make_dispatch(campaign=campaign, first_channel="whatsapp", **open_plan())
    dispatch_start(dispatch=dispatch)
    work_until(dispatch_done(dispatch))
    assert [r.json["to"] for r in whatsapp_stub.message_requests()] == [other.beneficiary.phone[1:]]
    assert recipients(dispatch)[stopper.beneficiary_id].skip_reason == "opted_out"
    assert dispatch_counters(Dispatch.objects.get(pk=dispatch.pk))["skipped_reasons"] == {
        "opted_out": 1}


@pytest.mark.django_db
def test_a_whatsapp_quick_reply_button_stop_counts_too(whatsapp_stub):
    campaign = make_campaign(program=make_program())
    make_integration(program=campaign.program, channel="whatsapp",
                     config=whatsapp_config(whatsapp_stub))
    person = make_beneficiary(campaign=campaign, phone="+221771234567")
    post_whatsapp(whatsapp_inbound("STOP", phone_number_id=whatsapp_stub.phone_number_id,
                                   sender="221771234567", kind="button"))
    assert Beneficiary.objects.get(pk=person.pk).opted_out_source == "whatsapp"


@pytest.mark.django_db
def test_a_whatsapp_stop_with_a_bad_signature_is_refused_and_changes_nothing(whatsapp_stub):
    campaign = make_campaign(program=make_program())
    make_integration(program=campaign.program, channel="whatsapp",
                     config=whatsapp_config(whatsapp_stub))
    person = make_beneficiary(campaign=campaign, phone="+221771234567")
    response = post_whatsapp(whatsapp_inbound("STOP", phone_number_id=whatsapp_stub.phone_number_id,
                                   sender="221771234567"), secret="guess")
    assert response.status_code == 403
    assert Beneficiary.objects.get(pk=person.pk).opted_out_at is None


# Single sends --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_send_card_api_refuses_an_opted_out_person_naming_the_reason(orange_stub):
    program = make_program()
    sms = make_integration(program=program, channel="sms", config=orange_stub.config())
    card, = make_issued_cards(campaign=make_campaign(program=program), count=1, with_png=False)
    post_orange(sms, orange_inbound("STOP", "tel:" + card.beneficiary.phone))
    client = api_client(make_api_key(program=program, role=Role.OPERATOR))
    response = client.post("/api/dhis2/send-card", {"card_code": card.code, "channel": "sms"},
                           format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409
    assert "opted out" in response.json()["error"] and "SMS reply" in response.json()["error"]
    assert orange_stub.sent == []


@pytest.mark.django_db
def test_the_send_page_refuses_an_opted_out_person_naming_the_reason(orange_stub):
    program = make_program()
    campaign = make_campaign(program=program)
    make_integration(program=program, channel="sms", config=orange_stub.config())
    card, = make_issued_cards(campaign=campaign, count=1, with_png=False,
                              opted_out_at=timezone.now(), opted_out_source="whatsapp")
    operator = Client()
    operator.force_login(make_user(program=program, role=Role.OPERATOR))
    session = operator.session
    session[SESSION_PROGRAM_KEY] = program.pk
    session.save()
    operator.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    url = f"/campaigns/{campaign.pk}/beneficiaries/{card.beneficiary_id}/send/"
    page = operator.post(url, {"channel": "sms", "phone_number": "",
                               "message": "{card_code}"}).content.decode()
    assert "opted out of messages" in page and "WhatsApp reply" in page
    assert orange_stub.sent == []


# Import --------------------------------------------------------------------------------------


def import_url(campaign):
    return f"/api/campaigns/{campaign.pk}/beneficiaries"


def json_row(**overrides):
    return {"external_id": "j1", "first_name": "Aya", "last_name": "Essomba",
            "date_of_birth": "2021-02-03", "sex": "F", "phone_number": "+221771234567",
            **overrides}


@pytest.mark.django_db
def test_an_imported_opted_out_yes_opts_the_person_out():
    campaign = make_campaign(program=make_program())
    client = api_client(make_api_key(program=campaign.program, role=Role.OPERATOR))
    response = client.post(import_url(campaign), {"beneficiaries": [
        json_row(opted_out="oui"), json_row(external_id="j2", opted_out="no")]}, format="json")
    assert response.status_code == 201
    rows = {b["external_id"]: b for b in client.get(import_url(campaign)).json()["data"]}
    assert parse_datetime(rows["j1"]["opted_out_at"]) is not None
    assert rows["j1"]["opted_out_source"] == "import"
    assert (rows["j2"]["opted_out_at"], rows["j2"]["opted_out_source"]) == (None, "")


@pytest.mark.django_db
def test_an_imported_opted_out_no_clears_nothing():
    campaign = make_campaign(program=make_program())
    earlier = timezone.now() - timedelta(days=3)
    person = make_beneficiary(campaign=campaign, external_id="j1", opted_out_at=earlier,
                              opted_out_source="sms")
    client = api_client(make_api_key(program=campaign.program, role=Role.OPERATOR))
    csv = (b"external_id,first_name,last_name,date_of_birth,sex,opted_out\n"
           b"j1,Aya,Essomba,2021-02-03,F,no\n")
    response = client.post(import_url(campaign), {"file": SimpleUploadedFile(
        "people.csv", csv, content_type="text/csv")}, format="multipart")
    assert response.status_code == 201
    person.refresh_from_db()
    assert (person.opted_out_at, person.opted_out_source) == (earlier, "sms")


@pytest.mark.django_db
def test_a_bad_opted_out_value_is_refused_naming_the_column():
    campaign = make_campaign(program=make_program())
    client = api_client(make_api_key(program=campaign.program, role=Role.OPERATOR))
    response = client.post(import_url(campaign), {"beneficiaries": [json_row(opted_out="maybe")]},
                           format="json")
    assert response.status_code == 400
    error, = response.json()["errors"]
    assert error["field"] == "opted_out" and "maybe" in error["message"]


# Default texts -------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["fr", "en", "wo"])
def test_each_default_text_ends_with_how_to_opt_out(language):
    assert DEFAULT_TEMPLATES[language].endswith(OPT_OUT_HINTS[language])
    assert is_stop_message(OPT_OUT_HINTS[language].split()[0])


# Staff ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_set_and_lift_an_opt_out_in_the_admin_as_source_admin():
    person = make_beneficiary(campaign=make_campaign(program=make_program()))
    form = {
        "first_name": "Awa", "last_name": "Ndiaye", "date_of_birth": "2019-05-17", "sex": "F",
        "phone": "+221771234567", "external_id": person.external_id, "mpi_id": "",
        "attributes": "{}", "consent_sms": "on", "consent_wallet": "on",
        "opted_out_at_0": "2026-12-01", "opted_out_at_1": "10:00:00",
    }
    client = superuser_client()
    assert client.post(admin_url(Beneficiary, "change", person.pk), form).status_code == 302
    person.refresh_from_db()
    assert person.opted_out_at is not None and person.opted_out_source == "admin"
    form.update(opted_out_at_0="", opted_out_at_1="")
    client.post(admin_url(Beneficiary, "change", person.pk), form)
    person.refresh_from_db()
    assert (person.opted_out_at, person.opted_out_source) == (None, "")
