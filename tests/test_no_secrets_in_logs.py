"""No secret in any log line (issue 12, point 4): the real ASGI server (access log on) and real
workers run a card job followed live over a WebSocket, an SMS dispatch through the Orange stub
and an Orange delivery receipt; then every line they printed is searched for every key, token,
ticket and secret the run used."""

import asyncio
import json
from datetime import time as dtime

import pytest
import requests
import websockets
from django.conf import settings

from campaigns.models import Beneficiary
from distribution.dispatch.runs import dispatch_start
from distribution.models import Dispatch, Message
from tests.factories import (
    make_api_key,
    make_campaign,
    make_dispatch,
    make_integration,
    make_issued_cards,
    make_program,
)
from tests.processes import asgi_server, start_worker, stop, wait_until

pytest_plugins = ["tests.stubs.fixtures"]
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

OPEN = {"window_start": dtime(0, 0), "window_end": dtime(0, 0), "weekdays": list(range(7)),
        "retry_delays": [0]}


async def follow_job(url):
    async with websockets.connect(url, open_timeout=20) as socket:
        while True:
            event = json.loads(await asyncio.wait_for(socket.recv(), timeout=120))
            if event["event"] in ("completed", "failed", "cancelled"):
                return event


async def refused(url):
    async with websockets.connect(url, open_timeout=20) as socket:
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(socket.recv(), timeout=10)


def test_no_key_token_ticket_or_secret_reaches_a_log_line(orange, tmp_path):
    program = make_program()
    key = make_api_key(program=program)
    campaign = make_campaign(program=program)
    Beneficiary.objects.bulk_create(
        Beneficiary(campaign=campaign, first_name=f"Awa{i}", last_name="Ndiaye",
                    date_of_birth="2019-01-02", sex="F", external_id=f"L{i:04d}")
        for i in range(20)
    )
    sms = make_integration(program=program, channel="sms", config=orange.config())
    sms_campaign = make_campaign(program=program)
    make_issued_cards(campaign=sms_campaign, count=3, with_png=False)
    dispatch = make_dispatch(campaign=sms_campaign, first_channel="sms", **OPEN)
    logs = [tmp_path / "web.log", tmp_path / "cards.log", tmp_path / "dispatch.log"]
    tickets = []

    with asgi_server(log_path=logs[0], log_level="info") as host:
        base = f"http://{host}"
        bearer = {"Authorization": f"Bearer {key}"}
        assert requests.get(f"{base}/api/me", headers={"X-API-Key": key}, timeout=10).ok
        job = requests.post(f"{base}/api/campaigns/{campaign.pk}/jobs", json={},
                            headers=bearer, timeout=10).json()
        workers = [start_worker("cards", log_path=logs[1]),
                   start_worker("dispatch", "--with-scheduler", log_path=logs[2])]
        try:
            tickets.append(requests.post(f"{base}/api/ws-tickets", headers=bearer,
                                         timeout=10).json()["ticket"])
            final = asyncio.run(follow_job(f"ws://{host}/ws/jobs/{job['id']}?ticket={tickets[0]}"))
            # A client that still puts its key in the URL is refused, and not logged either.
            asyncio.run(refused(f"ws://{host}/ws/jobs/{job['id']}?token={key}"))
            dispatch_start(dispatch=dispatch)
            wait_until(lambda: Dispatch.objects.get(pk=dispatch.pk).status == "done",
                       timeout=60, message="the dispatch to finish")
            message = Message.objects.filter(channel="sms").first()
            receipt = requests.post(
                f"{base}/webhooks/orange/{sms.webhook_token}",
                json={"deliveryInfoNotification": {
                    "callbackData": message.provider_message_id,
                    "deliveryInfo": {"address": "tel:+221770000001",
                                     "deliveryStatus": "DeliveredToTerminal"}}},
                timeout=10,
            )
        finally:
            for worker in workers:
                stop(worker)

    assert final["event"] == "completed"
    assert len(orange.sent) == 3 and receipt.ok
    lines = "\n".join(path.read_text(errors="replace") for path in logs)
    assert "GET /api/me" in lines and "/webhooks/orange/****" in lines  # the logs were captured
    secrets = {
        "API key": key, "ticket": tickets[0], "Orange receipt secret": sms.webhook_token,
        "Orange client secret": orange.client_secret, "SECRET_KEY": settings.SECRET_KEY,
        **{f"Orange access token {n}": token for n, token in enumerate(orange.tokens)},
    }
    assert len(orange.tokens) >= 1
    found = [name for name, secret in secrets.items() if secret in lines]
    assert found == []
