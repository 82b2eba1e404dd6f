"""Dispatch runs end to end in this process: the real RQ worker (burst mode, with its
scheduler), the real adapters and the providers' local stubs."""

import pytest
from django.utils import timezone

from distribution.dispatch.progress import dispatch_counters
from distribution.dispatch.runs import dispatch_resume, dispatch_start
from distribution.models import Dispatch, DispatchRecipient, Message
from tests.dispatch_helpers import dispatch_done, recipients, work_until
from tests.factories import (
    make_dispatch,
    make_integration,
    make_issued_cards,
)
from tests.stubs.whatsapp import meta_error

pytestmark = pytest.mark.django_db(transaction=True)
pytest_plugins = ["tests.stubs.fixtures"]

@pytest.fixture(autouse=True)
def few_senders(settings):
    """The stubs' listen backlog is 5: more connections opened at once get reset."""
    settings.DISPATCH_SEND_CONCURRENCY = 4


def open_plan(**plan):
    from datetime import time

    return {"window_start": time(0, 0), "window_end": time(0, 0), "weekdays": list(range(7)),
            "retry_delays": [0], **plan}


def sms_to(stub):
    return [sent["address"].removeprefix("tel:") for sent in stub.sent]


def whatsapp_to(stub):
    return ["+" + sent["to"] for sent in stub.sent]


def test_a_dispatch_sends_each_card_once_and_finishes(campaign, orange_stub):
    make_integration(program=campaign.program, channel="sms", config=orange_stub.config())
    cards = make_issued_cards(campaign=campaign, count=30, with_png=False)
    dispatch = make_dispatch(campaign=campaign, first_channel="sms", **open_plan())
    dispatch_start(dispatch=dispatch)
    work_until(dispatch_done(dispatch))
    assert sorted(sms_to(orange_stub)) == sorted(c.beneficiary.phone for c in cards)
    counters = dispatch_counters(Dispatch.objects.get(pk=dispatch.pk))
    assert (counters["total"], counters["succeeded"], counters["remaining"],
            counters["progress"]) == (30, 30, 0, 100)
    assert set(Message.objects.filter(dispatch=dispatch).values_list("status", flat=True)) == {
        "sent"}


def test_each_message_holds_the_card_text_and_the_provider_id(campaign, orange_stub):
    make_integration(program=campaign.program, channel="sms", config=orange_stub.config())
    card, = make_issued_cards(campaign=campaign, count=1, with_png=False, first_name="Fatou")
    dispatch = make_dispatch(campaign=campaign, first_channel="sms", **open_plan())
    dispatch_start(dispatch=dispatch)
    work_until(dispatch_done(dispatch))
    text = orange_stub.sent[0]["outboundSMSTextMessage"]["message"]
    assert "Fatou" in text and card.code in text and f"/v/c/{card.code}" in text
    message = Message.objects.get(dispatch=dispatch)
    assert message.provider_message_id == orange_stub.request_ids[0]
    assert message.recipient == "+22177***" + card.beneficiary.phone[-4:]
    assert message.idempotency_key == f"d{dispatch.pk}-c{card.pk}-sms-a1"
    assert message.sent_at is not None and message.attempt == 1


def test_opted_out_unconsented_and_phoneless_are_skipped_and_counted(campaign, orange_stub):
    make_integration(program=campaign.program, channel="sms", config=orange_stub.config())
    make_issued_cards(campaign=campaign, count=2, with_png=False)
    make_issued_cards(campaign=campaign, count=1, with_png=False, opted_out_at=timezone.now())
    make_issued_cards(campaign=campaign, count=2, with_png=False, consent_sms=False)
    make_issued_cards(campaign=campaign, count=1, with_png=False, phone="")
    dispatch = make_dispatch(campaign=campaign, first_channel="sms", **open_plan())
    dispatch_start(dispatch=dispatch)
    work_until(dispatch_done(dispatch))
    counters = dispatch_counters(Dispatch.objects.get(pk=dispatch.pk))
    assert (counters["total"], counters["succeeded"], counters["skipped"]) == (6, 2, 4)
    assert counters["skipped_reasons"] == {"opted_out": 1, "no_consent": 2, "no_phone": 1}
    assert len(orange_stub.sent) == 2


def test_whatsapp_failures_fall_back_to_sms_after_the_configured_attempts(
    campaign, whatsapp_stub, orange_stub
):
    make_integration(program=campaign.program, channel="whatsapp", config=whatsapp_stub.config())
    make_integration(program=campaign.program, channel="sms", config=orange_stub.config())
    card, = make_issued_cards(campaign=campaign, count=1)
    whatsapp_stub.fail_next(131000, times=5)  # a temporary error, every time
    dispatch = make_dispatch(campaign=campaign, first_channel="whatsapp", fallback_channel="sms",
                             fallback_after_attempts=2, max_attempts=3, **open_plan())
    dispatch_start(dispatch=dispatch)
    work_until(dispatch_done(dispatch))
    attempts = list(Message.objects.filter(dispatch=dispatch).order_by("attempt")
                    .values_list("attempt", "channel", "status"))
    assert attempts == [(1, "whatsapp", "failed"), (2, "whatsapp", "failed"), (3, "sms", "sent")]
    assert sms_to(orange_stub) == [card.beneficiary.phone]
    assert recipients(dispatch)[card.beneficiary_id].status == "succeeded"


def test_a_person_not_on_whatsapp_gets_the_sms_at_once(campaign, whatsapp_stub, orange_stub):
    make_integration(program=campaign.program, channel="whatsapp", config=whatsapp_stub.config())
    make_integration(program=campaign.program, channel="sms", config=orange_stub.config())
    card, = make_issued_cards(campaign=campaign, count=1)
    whatsapp_stub.not_on_whatsapp.add(card.beneficiary.phone.lstrip("+"))
    dispatch = make_dispatch(campaign=campaign, first_channel="whatsapp", fallback_channel="sms",
                             fallback_after_attempts=2, max_attempts=3, **open_plan())
    dispatch_start(dispatch=dispatch)
    work_until(dispatch_done(dispatch))
    channels = list(Message.objects.filter(dispatch=dispatch).order_by("attempt")
                    .values_list("channel", "error_code"))
    assert channels == [("whatsapp", "131026"), ("sms", "")]


def test_throttling_delays_without_using_an_attempt(campaign, whatsapp_stub):
    make_integration(program=campaign.program, channel="whatsapp", config=whatsapp_stub.config())
    card, = make_issued_cards(campaign=campaign, count=1)
    whatsapp_stub.throttle_next(2, retry_after=0)
    # One attempt allowed: if throttling used it up, the person would fail.
    dispatch = make_dispatch(campaign=campaign, first_channel="whatsapp", max_attempts=1,
                             **open_plan())
    dispatch_start(dispatch=dispatch)
    work_until(dispatch_done(dispatch))
    statuses = list(Message.objects.filter(dispatch=dispatch).order_by("attempt")
                    .values_list("status", "error_code"))
    assert statuses == [("failed", "130429"), ("failed", "130429"), ("sent", "")]
    recipient = recipients(dispatch)[card.beneficiary_id]
    assert (recipient.status, recipient.attempts, recipient.tries) == ("succeeded", 1, 3)
    assert whatsapp_to(whatsapp_stub) == [card.beneficiary.phone]


def test_an_account_error_pauses_the_run_with_its_reason(campaign, whatsapp_stub):
    make_integration(program=campaign.program, channel="whatsapp", config=whatsapp_stub.config())
    make_issued_cards(campaign=campaign, count=3)
    whatsapp_stub.fail_next(190, times=100)
    dispatch = make_dispatch(campaign=campaign, first_channel="whatsapp", **open_plan())
    dispatch_start(dispatch=dispatch)
    work_until(lambda: Dispatch.objects.get(pk=dispatch.pk).status == "paused")
    dispatch.refresh_from_db()
    assert dispatch.pause_reason.startswith("190: ")
    assert "token" in dispatch.pause_reason.lower() or "session" in dispatch.pause_reason.lower()
    # Nobody is failed for the account's fault: they wait for the resume.
    assert dispatch_counters(dispatch)["failed"] == 0


@pytest.mark.slow
def test_resume_sends_exactly_the_unsent_set(campaign, whatsapp_stub):
    make_integration(program=campaign.program, channel="whatsapp", config=whatsapp_stub.config())
    cards = make_issued_cards(campaign=campaign, count=40)
    calls = {"n": 0}

    def expire_on_the_tenth(request):
        calls["n"] += 1
        return meta_error(190) if calls["n"] >= 10 else None

    whatsapp_stub.reply_next(expire_on_the_tenth, times=10**6,
                             match=lambda r: r.path.endswith("/messages"))
    dispatch = make_dispatch(campaign=campaign, first_channel="whatsapp", **open_plan())
    dispatch_start(dispatch=dispatch)
    work_until(lambda: Dispatch.objects.get(pk=dispatch.pk).status == "paused")
    sent_before = whatsapp_to(whatsapp_stub)
    assert 0 < len(sent_before) < 40
    whatsapp_stub.reset()  # the token works again
    dispatch_resume(dispatch=Dispatch.objects.get(pk=dispatch.pk))
    work_until(dispatch_done(dispatch))
    everyone = whatsapp_to(whatsapp_stub)  # `sent` outlives reset(): before and after
    assert everyone[:len(sent_before)] == sent_before
    assert sorted(everyone) == sorted(c.beneficiary.phone for c in cards)


def test_a_read_timeout_is_not_sent_again(campaign, orange_stub, settings):
    settings.PROVIDER_TIMEOUT_SECONDS = 0.5
    make_integration(program=campaign.program, channel="sms", config=orange_stub.config())
    card, = make_issued_cards(campaign=campaign, count=1, with_png=False)
    orange_stub.delay_next(1.5, match=lambda r: r.path.endswith("/requests"))
    dispatch = make_dispatch(campaign=campaign, first_channel="sms", max_attempts=3, **open_plan())
    dispatch_start(dispatch=dispatch)
    work_until(dispatch_done(dispatch))
    message = Message.objects.get(dispatch=dispatch)
    assert (message.status, message.error_code) == ("failed", "timeout")
    recipient = recipients(dispatch)[card.beneficiary_id]
    assert recipient.status == "failed" and recipient.last_error.startswith("outcome_unknown")
    assert len(orange_stub.send_requests()) == 1


@pytest.mark.slow
def test_a_refused_connection_is_retried_after_the_delay(campaign, orange_stub, settings):
    from tests.processes import free_port

    make_integration(program=campaign.program, channel="sms", config=orange_stub.config())
    card, = make_issued_cards(campaign=campaign, count=1, with_png=False)
    stub_url = settings.ORANGE_API_URL
    settings.ORANGE_API_URL = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    dispatch = make_dispatch(campaign=campaign, first_channel="sms", max_attempts=2,
                             **open_plan(retry_delays=[1]))
    dispatch_start(dispatch=dispatch)
    work_until(lambda: Message.objects.filter(dispatch=dispatch).exists())
    settings.ORANGE_API_URL = stub_url
    work_until(dispatch_done(dispatch))
    attempts = list(Message.objects.filter(dispatch=dispatch).order_by("attempt")
                    .values_list("status", "error_code"))
    assert attempts == [("failed", "connection_error"), ("sent", "")]
    assert sms_to(orange_stub) == [card.beneficiary.phone]


def test_a_permanent_error_without_fallback_fails_the_person(campaign, orange_stub):
    make_integration(program=campaign.program, channel="sms", config=orange_stub.config())
    card, = make_issued_cards(campaign=campaign, count=1, with_png=False)
    orange_stub.fail_next("SVC0004", variables=["address"])
    dispatch = make_dispatch(campaign=campaign, first_channel="sms", max_attempts=3, **open_plan())
    dispatch_start(dispatch=dispatch)
    work_until(dispatch_done(dispatch))
    recipient = recipients(dispatch)[card.beneficiary_id]
    assert (recipient.status, recipient.attempts) == ("failed", 1)
    assert dispatch_counters(Dispatch.objects.get(pk=dispatch.pk))["failed"] == 1


def test_a_person_who_opts_out_after_the_start_is_not_sent(campaign, orange_stub):
    make_integration(program=campaign.program, channel="sms", config=orange_stub.config())
    first, second = make_issued_cards(campaign=campaign, count=2, with_png=False)
    dispatch = make_dispatch(campaign=campaign, first_channel="sms", **open_plan())
    dispatch_start(dispatch=dispatch)
    second.beneficiary.opted_out_at = timezone.now()
    second.beneficiary.save()
    work_until(dispatch_done(dispatch))
    assert sms_to(orange_stub) == [first.beneficiary.phone]
    assert recipients(dispatch)[second.beneficiary_id].status == DispatchRecipient.Status.SKIPPED
