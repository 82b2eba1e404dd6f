"""Every PostgreSQL backend terminated in the middle of a run (a failover, a restarted
database, a proxy dropping idle connections) costs a retry: the generation job still issues
each card once with one quota charge, the dispatch still sends each message once and records
each outcome, and neither is left in progress. Real `rqworker` processes, the Orange stub."""

import time
from collections import Counter
from datetime import time as dtime

import pytest
from django.db import connection

from campaigns.models import Beneficiary, Job, QuotaTransaction
from cards import generation
from cards.models import Card
from distribution.dispatch.runs import dispatch_start
from distribution.models import Dispatch, DispatchRecipient, Message
from tests.factories import (
    make_campaign,
    make_dispatch,
    make_integration,
    make_issued_cards,
    make_program,
)
from tests.processes import start_worker, stop, wait_until

pytest_plugins = ["tests.stubs.fixtures"]
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def terminate_every_other_backend():
    """What a database restart does to every client but this test's own connection."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.fixture
def workers(tmp_path):
    started = []

    def start(*queues, n=1):
        for _ in range(n):
            log = tmp_path / f"worker-{len(started)}.log"
            started.append(start_worker(*queues, log_path=log))
        return started

    yield start
    for process in started:
        stop(process)


def test_a_generation_job_survives_every_connection_dropped(workers):
    campaign = make_campaign(program=make_program())
    Beneficiary.objects.bulk_create(
        Beneficiary(campaign=campaign, first_name=f"Awa{i}", last_name="Ndiaye",
                    date_of_birth="2019-03-04", sex="F", external_id=f"E{i:05d}")
        for i in range(240))
    job = generation.job_create(campaign=campaign, chunk_size=20)
    workers("cards", n=2)
    wait_until(lambda: Job.objects.get(pk=job.pk).cards_generated >= 40, timeout=120,
               interval=0.2, message="two chunks rendered")
    assert terminate_every_other_backend() >= 1
    wait_until(lambda: Job.objects.get(pk=job.pk).status in Job.FINAL_STATUSES, timeout=180,
               interval=0.5, message="the job to end")
    job.refresh_from_db()
    assert (job.status, job.cards_generated) == ("completed", 240), job.error
    assert Counter(Card.objects.filter(job=job).values_list("beneficiary_id", flat=True)) \
        == Counter({pk: 1 for pk in campaign.beneficiaries.values_list("pk", flat=True)})
    assert QuotaTransaction.objects.filter(job=job).count() == 1


def test_a_dispatch_survives_every_connection_dropped(orange, workers):
    campaign = make_campaign(program=make_program())
    make_integration(program=campaign.program, channel="sms", config=orange.config())
    cards = make_issued_cards(campaign=campaign, count=300, with_png=False)
    dispatch = make_dispatch(campaign=campaign, first_channel="sms", rate_limit_per_second=100,
                             window_start=dtime(0, 0), window_end=dtime(0, 0),
                             weekdays=list(range(7)), retry_delays=[0])
    workers("dispatch", "--with-scheduler", n=2)
    dispatch_start(dispatch=dispatch)
    wait_until(lambda: len(orange.sent) >= 60, timeout=60, interval=0.1, message="60 SMS sent")
    assert terminate_every_other_backend() >= 1
    wait_until(lambda: Dispatch.objects.get(pk=dispatch.pk).status == Dispatch.Status.DONE,
               timeout=120, interval=0.5, message="the dispatch to finish")
    time.sleep(1)
    sent = Counter(s["address"].removeprefix("tel:") for s in orange.sent)
    assert sorted(sent) == sorted(card.beneficiary.phone for card in cards)
    assert set(sent.values()) == {1}
    statuses = Counter(DispatchRecipient.objects.filter(dispatch=dispatch)
                       .values_list("status", flat=True))
    assert statuses == Counter({"succeeded": 300}), list(
        DispatchRecipient.objects.filter(dispatch=dispatch, status="failed")
        .values_list("last_error", flat=True))[:5]
    assert Message.objects.filter(dispatch=dispatch, status="sent").count() == 300


def test_a_dhis2_sync_survives_every_connection_dropped(workers):
    from campaigns.dhis2.models import Dhis2SyncRun
    from tests.factories import api_client, make_api_key, make_dhis2_connection, make_dhis2_link
    from tests.stubs.dhis2 import COUNTRY, MAPPING, PROGRAM, Dhis2Stub

    stub = Dhis2Stub().start()
    try:
        stub.delay_next(0.05, times=100_000, match=lambda r: "trackedEntities" in r.path)
        stub.add_entities(2000)
        program = make_program()
        make_dhis2_connection(program=program, config=stub.config())
        campaign = make_campaign(program=program)
        make_dhis2_link(campaign=campaign, program_uid=PROGRAM, org_unit_uid=COUNTRY,
                        mapping=dict(MAPPING))
        run_id = api_client(make_api_key(program=program)).post(
            f"/api/campaigns/{campaign.pk}/dhis2/sync", {}, format="json").json()["id"]
        workers("dhis2")
        wait_until(lambda: Dhis2SyncRun.objects.get(pk=run_id).pages_done >= 4, timeout=120,
                   interval=0.1, message="some pages imported")
        assert terminate_every_other_backend() >= 1
        wait_until(lambda: not Dhis2SyncRun.objects.get(pk=run_id).is_active, timeout=120,
                   interval=0.5, message="the sync to end")
    finally:
        stub.stop()
    run = Dhis2SyncRun.objects.get(pk=run_id)
    assert (run.status, run.created_count, run.pages_done) == ("completed", 2000, 20), run.error
    ids = list(Beneficiary.objects.filter(campaign=campaign).values_list("external_id", flat=True))
    assert len(ids) == len(set(ids)) == 2000
