"""DHIS2 sync with real worker processes: a worker killed mid-sync (the run resumes on another
worker and every entity ends up exactly once), and live progress over a real WebSocket."""

import asyncio
import json

import pytest
import websockets

from campaigns.dhis2.models import Dhis2SyncRun
from campaigns.models import Beneficiary
from tests.factories import (
    api_client,
    make_api_key,
    make_campaign,
    make_dhis2_connection,
    make_dhis2_link,
    make_program,
    ws_ticket,
)
from tests.processes import asgi_server, kill_hard, start_worker, stop, wait_until
from tests.stubs.dhis2 import COUNTRY, MAPPING, PROGRAM, Dhis2Stub

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def slow_dhis2():
    """A stub whose every tracked-entity page takes a while, so a sync can be watched."""
    stub = Dhis2Stub().start()
    stub.delay_next(0.1, times=100_000, match=lambda r: "trackedEntities" in r.path)
    yield stub
    stub.stop()


def linked_campaign(stub):
    program = make_program()
    make_dhis2_connection(program=program, config=stub.config())
    campaign = make_campaign(program=program)
    make_dhis2_link(campaign=campaign, program_uid=PROGRAM, org_unit_uid=COUNTRY,
                    mapping=dict(MAPPING))
    return campaign, make_api_key(program=program)


def test_a_worker_killed_mid_sync_resumes_elsewhere_with_every_entity_exactly_once(
    slow_dhis2, tmp_path
):
    slow_dhis2.add_entities(6000)
    campaign, key = linked_campaign(slow_dhis2)
    run_id = api_client(key).post(
        f"/api/campaigns/{campaign.pk}/dhis2/sync", {}, format="json"
    ).json()["id"]

    first = start_worker("dhis2", log_path=tmp_path / "worker-a.log")
    try:
        wait_until(lambda: Dhis2SyncRun.objects.get(pk=run_id).pages_done >= 8, timeout=120,
                   message="the first worker to import some pages")
        kill_hard(first)
    finally:
        stop(first)
    stopped = Dhis2SyncRun.objects.get(pk=run_id)
    assert stopped.status == "running" and stopped.pages_done < 60
    # Whole pages only: what the killed worker left is a multiple of the page size.
    assert Beneficiary.objects.filter(campaign=campaign).count() == stopped.pages_done * 100

    # An idle RQ worker runs its maintenance (which finds the dead worker's job abandoned and
    # retries it) only when its blocking dequeue times out: worker TTL - 15 s, 405 s by
    # default. With nothing else queued, a short TTL makes that ~10 s.
    second = start_worker("dhis2", "--worker-ttl", "25", log_path=tmp_path / "worker-b.log")
    try:
        wait_until(lambda: not Dhis2SyncRun.objects.get(pk=run_id).is_active, timeout=240,
                   message="the second worker to finish the sync")
    finally:
        stop(second)

    run = Dhis2SyncRun.objects.get(pk=run_id)
    assert run.status == "completed", run.error
    assert (run.created_count, run.updated_count, run.skipped_count) == (6000, 0, 0)
    assert run.pages_done == 60
    ids = list(Beneficiary.objects.filter(campaign=campaign).values_list("external_id", flat=True))
    assert len(ids) == len(set(ids)) == 6000
    # The resumed run went on from the first page not written, not from page 1.
    pages = [int(r.query["page"]) for r in slow_dhis2.page_requests()]
    assert pages.count(1) == 1


def test_websocket_streams_a_real_syncs_progress_to_completed(slow_dhis2, tmp_path):
    slow_dhis2.add_entities(2000)
    campaign, key = linked_campaign(slow_dhis2)

    async def listen(url):
        events = []
        async with websockets.connect(url, open_timeout=20) as socket:
            while True:
                event = json.loads(await asyncio.wait_for(socket.recv(), timeout=120))
                events.append(event)
                if event["event"] in ("completed", "failed"):
                    return events

    with asgi_server() as host:
        run_id = api_client(key).post(
            f"/api/campaigns/{campaign.pk}/dhis2/sync", {}, format="json"
        ).json()["id"]
        worker = start_worker("dhis2", log_path=tmp_path / "worker.log")
        try:
            events = asyncio.run(
                listen(f"ws://{host}/ws/dhis2/syncs/{run_id}?ticket={ws_ticket(key)}")
            )
        finally:
            stop(worker)

    assert events[0]["id"] == run_id
    assert events[-1]["event"] == "completed"
    assert (events[-1]["created"], events[-1]["progress"]) == (2000, 100)
    pages = [e["pages_done"] for e in events]
    assert pages == sorted(pages)
    assert any(0 < e["pages_done"] < 20 for e in events)
    assert {"status", "updated", "unchanged", "skipped", "errors_url", "started_at",
            "finished_at", "error"} <= set(events[-1])


def test_websocket_refuses_a_ticket_of_another_program(slow_dhis2):
    campaign, key = linked_campaign(slow_dhis2)
    run_id = api_client(key).post(
        f"/api/campaigns/{campaign.pk}/dhis2/sync", {}, format="json"
    ).json()["id"]
    outsider_key = make_api_key(program=make_program())

    async def close_code(url):
        async with websockets.connect(url, open_timeout=20) as socket:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), timeout=10)
            return closed.value.rcvd.code

    with asgi_server() as host:
        path = f"ws://{host}/ws/dhis2/syncs/{run_id}"
        assert asyncio.run(close_code(f"{path}?ticket={ws_ticket(outsider_key)}")) == 4404
        assert asyncio.run(close_code(f"{path}?ticket=nope")) == 4401
