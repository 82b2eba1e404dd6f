"""Generation with real worker processes: a worker killed mid-job, and live progress over a
real WebSocket from a running ASGI server."""

import asyncio
import io
import json
import zipfile

import pytest
import websockets
from pypdf import PdfReader

from campaigns.models import Beneficiary, Job, QuotaTransaction
from cards.models import Card
from tests.factories import api_client, make_api_key, make_campaign, make_program, ws_ticket
from tests.processes import asgi_server, kill_hard, start_worker, stop, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def campaign_of(program, count):
    campaign = make_campaign(program=program)
    Beneficiary.objects.bulk_create(
        Beneficiary(campaign=campaign, first_name=f"Fatou{i}", last_name="Diop",
                    date_of_birth="2018-03-04", sex="F", external_id=f"K{i:06d}")
        for i in range(count)
    )
    return campaign


def test_a_worker_killed_mid_job_loses_no_card_and_charges_once(tmp_path):
    program = make_program(quota=10_000)
    key = make_api_key(program=program)
    job_id = api_client(key).post(
        f"/api/campaigns/{campaign_of(program, 2000).pk}/jobs", {}, format="json"
    ).json()["id"]

    first = start_worker("cards", log_path=tmp_path / "worker-a.log")
    try:
        wait_until(lambda: Job.objects.get(pk=job_id).cards_generated >= 300, timeout=240,
                   message="the first worker to render some chunks")
        kill_hard(first)
    finally:
        stop(first)
    assert Job.objects.get(pk=job_id).status == "generating"

    second = start_worker("cards", log_path=tmp_path / "worker-b.log")
    try:
        wait_until(lambda: Job.objects.get(pk=job_id).is_final, timeout=400,
                   message="the second worker to finish the job")
    finally:
        stop(second)

    job = Job.objects.get(pk=job_id)
    assert job.status == "completed", job.error
    assert job.cards_generated == 2000
    codes = set(Card.objects.filter(job=job).values_list("code", flat=True))
    assert len(codes) == 2000
    with job.zip.open("rb") as fh:
        names = [n for n in zipfile.ZipFile(fh).namelist() if n != "back.png"]
    assert sorted(names) == sorted(f"{code}.png" for code in codes)
    with job.pdf.open("rb") as fh:
        assert len(PdfReader(io.BytesIO(fh.read())).pages) == 4000
    with job.manifest.open("rb") as fh:
        manifest_codes = [card["code"] for card in json.load(fh)["cards"]]
    assert len(manifest_codes) == 2000 and set(manifest_codes) == codes
    ledger = QuotaTransaction.objects.filter(job=job)
    assert [(row.kind, row.units) for row in ledger] == [("debit", -2000)]


def test_websocket_streams_a_real_jobs_progress_to_completed(tmp_path):
    program = make_program()
    key = make_api_key(program=program)
    campaign = campaign_of(program, 300)

    async def listen(url):
        events = []
        async with websockets.connect(url, open_timeout=20) as socket:
            while True:
                event = json.loads(await asyncio.wait_for(socket.recv(), timeout=120))
                events.append(event)
                if event["event"] in ("completed", "failed"):
                    return events

    with asgi_server() as host:
        job_id = api_client(key).post(
            f"/api/campaigns/{campaign.pk}/jobs", {}, format="json"
        ).json()["id"]
        worker = start_worker("cards", log_path=tmp_path / "worker.log")
        try:
            events = asyncio.run(listen(f"ws://{host}/ws/jobs/{job_id}?ticket={ws_ticket(key)}"))
        finally:
            stop(worker)

    assert events[0]["job_id"] == job_id
    assert events[-1]["event"] == "completed"
    assert events[-1]["cards_generated"] == 300
    assert set(events[-1]["artifacts"]) >= {"pdf", "zip", "manifest"}
    progress = [e["cards_generated"] for e in events]
    assert progress == sorted(progress)
    assert any(0 < e["cards_generated"] < 300 for e in events)
    assert {"status", "progress", "total_cards", "eta_seconds"} <= set(events[-1])


async def close_code(url):
    async with websockets.connect(url, open_timeout=20) as socket:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), timeout=10)
        return closed.value.rcvd.code


async def first_event(url):
    async with websockets.connect(url, open_timeout=20) as socket:
        return json.loads(await asyncio.wait_for(socket.recv(), timeout=10))


def job_of(program):
    return api_client(make_api_key(program=program)).post(
        f"/api/campaigns/{campaign_of(program, 1).pk}/jobs", {}, format="json"
    ).json()["id"]


def test_websocket_refuses_a_ticket_of_another_program_and_a_bad_ticket():
    job_id = job_of(make_program())
    outsider_key = make_api_key(program=make_program())

    with asgi_server() as host:
        path = f"ws://{host}/ws/jobs/{job_id}"
        assert asyncio.run(close_code(f"{path}?ticket={ws_ticket(outsider_key)}")) == 4404
        assert asyncio.run(close_code(f"{path}?ticket=nope")) == 4401


def test_a_websocket_ticket_opens_one_socket_only():
    program = make_program()
    job_id = job_of(program)
    ticket = ws_ticket(make_api_key(program=program))

    with asgi_server() as host:
        path = f"ws://{host}/ws/jobs/{job_id}?ticket={ticket}"
        assert asyncio.run(first_event(path))["job_id"] == job_id
        assert asyncio.run(close_code(path)) == 4401


def test_websocket_refuses_an_api_key_in_the_url():
    # A key in the URL would be written to access logs.
    program = make_program()
    job_id = job_of(program)
    key = make_api_key(program=program)

    with asgi_server() as host:
        assert asyncio.run(close_code(f"ws://{host}/ws/jobs/{job_id}?token={key}")) == 4401
