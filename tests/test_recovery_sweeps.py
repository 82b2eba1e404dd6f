"""Nothing lives only in Redis: when it restarts empty (flushed here), the recovery sweeps run
by the workers' maintenance (campaignid/recovery.py) enqueue again, from the database, what
was lost, and each message still goes out once. The real RQ worker, the Orange stub."""

from datetime import UTC, datetime, time, timedelta

import django_rq
import pytest
from django.utils import timezone
from rq.registry import ScheduledJobRegistry

from campaignid import recovery
from distribution import tokens
from distribution.dispatch.runs import dispatch_start
from distribution.models import DispatchRecipient, Message
from distribution.recovery import resume_running_dispatches
from tests.dispatch_helpers import dispatch_done, work_until
from tests.factories import (
    api_client,
    make_api_key,
    make_dispatch,
    make_integration,
    make_issued_cards,
)

pytestmark = pytest.mark.django_db(transaction=True)
pytest_plugins = ["tests.stubs.fixtures", "tests.stubs.dhis2_fixtures"]


@pytest.fixture(autouse=True)
def sweeps_every_maintenance(settings):
    settings.RECOVERY_SWEEP_SECONDS = 0
    settings.DISPATCH_SEND_CONCURRENCY = 4


def redis_restarts_empty():
    tokens.connection().flushdb()


def clock_at(settings, moment):
    settings.DISPATCH_CLOCK_OFFSET_SECONDS = (moment - timezone.now()).total_seconds()


def open_plan():
    return {"window_start": time(0, 0), "window_end": time(0, 0),
            "weekdays": list(range(7)), "retry_delays": [0]}


@pytest.fixture
def sms_campaign(campaign, orange_stub):
    make_integration(program=campaign.program, channel="sms", config=orange_stub.config())
    return campaign


def queue_a_night_send(settings, card, **extra):
    settings.SINGLE_SEND_QUIET_HOURS = True
    clock_at(settings, datetime(2026, 6, 10, 6, 58, tzinfo=UTC))  # Dakar: UTC+0
    client = api_client(make_api_key(program=card.campaign.program, role="operator"))
    response = client.post("/api/dhis2/send-card", {
        "enrollment_id": card.beneficiary.external_id, "channel": "sms", **extra},
        format="json")
    assert response.status_code == 202
    return Message.objects.get()


def test_a_queued_single_send_keeps_no_number_or_text_in_redis(settings, sms_campaign):
    card, = make_issued_cards(campaign=sms_campaign, count=1, with_png=False)
    message = queue_a_night_send(settings, card, phone_number="+221781234567",
                                 message="Hello {first_name}")
    queue = django_rq.get_queue("dispatch")
    job, = [queue.fetch_job(i) for i in ScheduledJobRegistry(queue=queue).get_job_ids()]
    assert job.args == (message.pk,)
    assert (message.scheduled_text, message.scheduled_phone) == (
        "Hello {first_name}", "+221781234567")


@pytest.mark.slow
def test_a_queued_single_send_lost_with_redis_goes_out_once(settings, sms_campaign,
                                                           orange_stub):
    card, = make_issued_cards(campaign=sms_campaign, count=1, with_png=False,
                              first_name="Awa")
    queue_a_night_send(settings, card, phone_number="+221781234567",
                       message="Bonjour {first_name}")
    redis_restarts_empty()
    clock_at(settings, datetime(2026, 6, 10, 7, 5, tzinfo=UTC))  # overdue: its job is lost
    work_until(lambda: Message.objects.get().status == "sent", message="the lost send")
    work_until(lambda: True)
    assert [(s["address"], s["outboundSMSTextMessage"]["message"]) for s in orange_stub.sent] \
        == [("tel:+221781234567", "Bonjour Awa")]
    assert Message.objects.get().scheduled_phone == ""


@pytest.mark.slow
def test_a_dispatch_whose_queue_redis_lost_finishes_sending_each_card_once(
        sms_campaign, orange_stub):
    cards = make_issued_cards(campaign=sms_campaign, count=40, with_png=False)
    dispatch = make_dispatch(campaign=sms_campaign, first_channel="sms", **open_plan())
    dispatch_start(dispatch=dispatch)
    # The batches were handed out a while ago; then Redis restarted empty.
    DispatchRecipient.objects.filter(dispatch=dispatch).update(
        batched_at=timezone.now() - timedelta(minutes=2))
    redis_restarts_empty()
    work_until(dispatch_done(dispatch), message="the dispatch Redis forgot")
    sent = sorted(s["address"].removeprefix("tel:") for s in orange_stub.sent)
    assert sent == sorted(c.beneficiary.phone for c in cards)


def test_a_running_dispatch_redis_knows_is_left_alone(sms_campaign):
    make_issued_cards(campaign=sms_campaign, count=3, with_png=False)
    dispatch = make_dispatch(campaign=sms_campaign, first_channel="sms", **open_plan())
    dispatch_start(dispatch=dispatch)
    assert resume_running_dispatches() == []


def test_the_sweeps_run_once_per_interval_across_workers(settings):
    settings.RECOVERY_SWEEP_SECONDS = 30
    connection = tokens.connection()
    assert recovery.run_due_sweeps(connection) is True
    assert recovery.run_due_sweeps(connection) is False


def age(model, pk, minutes=2):
    model.objects.filter(pk=pk).update(created_at=timezone.now() - timedelta(minutes=minutes))


@pytest.mark.slow
def test_a_generation_job_whose_chunks_redis_lost_issues_each_card_once(program):
    from campaigns.models import Beneficiary, Job, QuotaTransaction
    from cards import generation
    from cards.models import Card
    from tests.factories import make_campaign

    campaign = make_campaign(program=program)
    Beneficiary.objects.bulk_create(
        Beneficiary(campaign=campaign, first_name=f"Awa{n}", last_name="Ndiaye",
                    date_of_birth="2019-03-04", sex="F", external_id=f"R{n:05d}")
        for n in range(2000))
    job = generation.job_create(campaign=campaign, chunk_size=250)
    # Prepare, then three chunks of eight: Redis restarts empty in the middle of the job.
    django_rq.get_worker("cards").work(burst=True, max_jobs=4)
    assert Job.objects.get(pk=job.pk).status == "generating"
    redis_restarts_empty()
    age(Job, job.pk)
    django_rq.get_worker("cards").work(burst=True)
    job.refresh_from_db()
    assert (job.status, job.cards_generated) == ("completed", 2000)
    assert Card.objects.filter(job=job).count() == 2000
    assert Card.objects.filter(job=job).values("beneficiary").distinct().count() == 2000
    assert QuotaTransaction.objects.filter(job=job).count() == 1


def test_a_dhis2_sync_whose_task_redis_lost_imports_each_entity_once(dhis2_stub):
    from campaigns.dhis2.models import Dhis2SyncRun
    from campaigns.models import Beneficiary
    from tests.factories import make_campaign, make_dhis2_connection, make_dhis2_link, make_program
    from tests.stubs.dhis2 import COUNTRY, MAPPING, PROGRAM

    dhis2_stub.add_entities(30)
    program = make_program()
    make_dhis2_connection(program=program, config=dhis2_stub.config())
    campaign = make_campaign(program=program)
    make_dhis2_link(campaign=campaign, program_uid=PROGRAM, org_unit_uid=COUNTRY,
                    mapping=dict(MAPPING))
    client = api_client(make_api_key(program=program, role="operator"))
    assert client.post(f"/api/campaigns/{campaign.pk}/dhis2/sync", {},
                       format="json").status_code == 202
    redis_restarts_empty()
    run = Dhis2SyncRun.objects.get()
    age(Dhis2SyncRun, run.pk)
    django_rq.get_worker("dhis2").work(burst=True)
    assert Dhis2SyncRun.objects.get().status == "completed"
    ids = list(Beneficiary.objects.filter(campaign=campaign).values_list("external_id", flat=True))
    assert len(ids) == len(set(ids)) == 30


def test_a_live_senders_claims_are_not_judged_dead_when_redis_restarts_empty(sms_campaign):
    from distribution.dispatch import claiming, clock, liveness
    from distribution.models import Dispatch

    make_issued_cards(campaign=sms_campaign, count=3, with_png=False)
    dispatch = make_dispatch(campaign=sms_campaign, first_channel="sms", **open_plan())
    dispatch_start(dispatch=dispatch)
    dispatch = Dispatch.objects.select_related("campaign__program").get(pk=dispatch.pk)
    ids = list(DispatchRecipient.objects.filter(dispatch=dispatch).values_list("pk", flat=True))
    with liveness.ClaimHeartbeat() as heartbeat:
        claimed = claiming.claim_rows(dispatch=dispatch, channel="sms", ids=ids,
                                      token=heartbeat.token, now=clock.now())
        redis_restarts_empty()
        still_sending = liveness.settle_dead_claims(dispatch_id=dispatch.pk)
    assert len(claimed) == still_sending == 3
    assert set(DispatchRecipient.objects.filter(dispatch=dispatch)
               .values_list("status", flat=True)) == {"sending"}


def test_recipients_of_a_batch_task_that_failed_for_good_are_handed_out_again(
        sms_campaign, orange_stub):
    cards = make_issued_cards(campaign=sms_campaign, count=12, with_png=False)
    dispatch = make_dispatch(campaign=sms_campaign, first_channel="sms", **open_plan())
    dispatch_start(dispatch=dispatch)
    django_rq.get_worker("dispatch").work(burst=True, max_jobs=1)  # the pump hands out
    queue = django_rq.get_queue("dispatch")
    batches = [i for i in queue.get_job_ids() if "-batch-" in i]
    assert batches
    for task_id in batches:  # gone, as a batch whose retries ran out
        queue.remove(task_id)
    DispatchRecipient.objects.filter(dispatch=dispatch).update(
        batched_at=timezone.now() - timedelta(minutes=2))
    tokens.connection().set(f"distribution:pump-due:{dispatch.pk}", "9999999999")
    work_until(dispatch_done(dispatch), message="the orphaned recipients to be sent")
    sent = sorted(s["address"].removeprefix("tel:") for s in orange_stub.sent)
    assert sent == sorted(c.beneficiary.phone for c in cards)
