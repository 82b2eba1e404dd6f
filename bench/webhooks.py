"""Delivery-status callbacks applied per second, through the real ASGI app under uvicorn.

Sets up its own data in the database of DATABASE_URL (migrated first; the program it creates
is deleted at the end): a program with an Orange SMS and a WhatsApp integration, and N sent
SMS plus N sent WhatsApp messages with provider ids. Those Message rows are bulk-inserted as
a dispatch would have left them (status `sent`, provider id written): what is measured is
the webhooks, not the sending.

Starts uvicorn as README "Processes" runs it (`campaignid.asgi:application --lifespan off`)
with --workers (default 2: one per core on this 2-core machine) and the server environment's
connection pool (DB_POOL_SIZE, default here 8), then fires from this
process, over --connections keep-alive connections (uvloop, one pre-built request each):

1. Orange: one `deliveryInfoNotification` POST per SMS (DeliveredToTerminal), at
   `/webhooks/orange/<the integration's token>`, as Orange sends them;
2. WhatsApp: `statuses` notifications, signed with the app secret (X-Hub-Signature-256) as
   Meta signs them: "delivered" with the first --per-post count of statuses per POST
   (default 1, as Meta mostly sends them), then "read" for the same messages with the second
   (default 20, Meta's batches under load).

Then checks in the database that every message has the new status, and prints callbacks
(statuses) applied per second, first request to last answer; the peak memory of uvicorn's
process tree; the load average.

    .venv/bin/python bench/webhooks.py --messages 20000 --workers 2 --connections 64
"""

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import uvloop  # noqa: E402 - uvicorn[standard]'s loop

from bench.process_tree import TreeSampler  # noqa: E402

APP_SECRET = "app-secret-" + "b" * 16
PHONE_NUMBER_ID = "1098765432101"


def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaignid.settings")
    import django

    django.setup()


def make_messages(*, program, count):
    """N sent SMS and N sent WhatsApp messages with provider ids (bulk inserts)."""
    from django.db import connection

    from campaigns.models import Beneficiary, Campaign, Job
    from cards.codes import new_card_code
    from cards.models import Card
    from distribution.integrations import integration_save
    from distribution.models import Message

    sms = integration_save(program=program, channel="sms", enabled=True, config={
        "client_id": "bench-client", "client_secret": "bench-secret",
        "sender_address": "tel:+2210000", "sender_name": "SANTE-SN"})
    integration_save(program=program, channel="whatsapp", enabled=True, config={
        "phone_number_id": PHONE_NUMBER_ID, "access_token": "bench-token",
        "app_secret": APP_SECRET, "verify_token": "verify-" + "y" * 12,
        "template_name": "card_ready", "template_language": "fr"})
    prefix = "W" + secrets.token_hex(3).upper()
    campaign = Campaign.objects.create(program=program, name=f"Bench {prefix}", prefix=prefix,
                                       campaign_type="vaccination", language="fr")
    people = Beneficiary.objects.bulk_create([
        Beneficiary(campaign=campaign, first_name="Awa", last_name=f"Sarr {i}",
                    date_of_birth=date(2018, 3, 1), sex="F", phone=f"+22177{i:07d}",
                    external_id=f"enr{i}", consent_sms=True, consent_whatsapp=True)
        for i in range(count)
    ], batch_size=2000)
    job = Job.objects.create(campaign=campaign, status=Job.Status.COMPLETED, total_cards=count)
    cards = Card.objects.bulk_create([
        Card(campaign=campaign, beneficiary=person, job=job, code=new_card_code(prefix),
             token="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" * 3, issued_on=date(2026, 5, 17))
        for person in people
    ], batch_size=2000)
    ids = {"sms": [], "whatsapp": []}
    rows = []
    for channel in ("sms", "whatsapp"):
        for card in cards:
            provider_id = (secrets.token_hex(12) if channel == "sms"
                           else "wamid.HBgL" + secrets.token_urlsafe(30))
            ids[channel].append(provider_id)
            rows.append(Message(
                program=program, campaign=campaign, beneficiary_id=card.beneficiary_id,
                card=card, channel=channel, status=Message.Status.SENT,
                provider_message_id=provider_id, recipient="+22177*****",
                idempotency_key=f"bench-{prefix}-{channel}-{card.pk}"))
    Message.objects.bulk_create(rows, batch_size=5000)
    # What autovacuum does to a table that grew: without statistics the planner may read the
    # whole table for each batch's UPDATE instead of the provider id's index.
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Message._meta.db_table}")
    return campaign, sms.webhook_token, ids


def orange_requests(host, token, ids):
    path = f"/webhooks/orange/{token}"
    for provider_id in ids:
        body = json.dumps({"deliveryInfoNotification": {
            "callbackData": provider_id,
            "deliveryInfo": {"address": "tel:+221770000000",
                             "deliveryStatus": "DeliveredToTerminal"},
        }}).encode()
        yield _post(host, path, body, {}), 1


def whatsapp_requests(host, ids, per_post, status):
    stamp = str(int(time.time()))
    for start in range(0, len(ids), per_post):
        chunk = ids[start:start + per_post]
        body = json.dumps({"object": "whatsapp_business_account", "entry": [{
            "id": "102290129340398",
            "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "221338000000",
                             "phone_number_id": PHONE_NUMBER_ID},
                "statuses": [{"id": provider_id, "status": status, "timestamp": stamp,
                              "recipient_id": "221770000000"} for provider_id in chunk],
            }}],
        }]}).encode()
        signature = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
        yield _post(host, "/webhooks/whatsapp", body,
                    {"X-Hub-Signature-256": f"sha256={signature}"}), len(chunk)


def _post(host, path, body, headers):
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", "Content-Type: application/json",
             f"Content-Length: {len(body)}", "User-Agent: facebookexternalua"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Connection(asyncio.Protocol):
    """One keep-alive connection sending the shared `pending` requests one at a time, each
    after the previous answer: a protocol on uvloop rather than asyncio's streams, so that
    the load generator, on the same cores as uvicorn, takes as little of them as it can."""

    def __init__(self, pending, seen, finished):
        self.pending, self.seen, self.finished = pending, seen, finished
        self.buffer = b""
        self.statuses = 0
        self.count = 0

    def connection_made(self, transport):
        self.transport = transport
        self._next()

    def _next(self):
        if not self.pending:
            self.transport.close()
            return
        request, self.count = self.pending.pop()
        self.transport.write(request)

    def data_received(self, data):
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self.buffer[:end]
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if len(self.buffer) < end + 4 + length:
            return
        self.buffer = self.buffer[end + 4 + length:]
        code = int(head[9:12])
        self.seen[code] = self.seen.get(code, 0) + 1
        self.statuses += self.count
        self._next()

    def connection_lost(self, exc):
        if not self.finished.done():
            self.finished.set_result(self.statuses)


async def fire(port, requests, connections):
    """Sends every request over `connections` keep-alive connections; returns (seconds,
    statuses sent, HTTP statuses seen)."""
    loop = asyncio.get_running_loop()
    pending = list(requests)
    pending.reverse()
    seen = {}
    began = time.perf_counter()
    finished = []
    for _ in range(connections):
        done = loop.create_future()
        await loop.create_connection(lambda done=done: Connection(pending, seen, done),
                                     "127.0.0.1", port)
        finished.append(done)
    statuses = sum(await asyncio.gather(*finished))
    return time.perf_counter() - began, statuses, seen


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_uvicorn(port, workers, log_dir):
    # The web processes' pool as README "Servers" sets it (DB_POOL_SIZE).
    env = dict(os.environ, PYTHONUNBUFFERED="1", LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"),
               DB_POOL_SIZE=os.environ.get("DB_POOL_SIZE", "8"))
    with open(log_dir / "bench-webhooks-uvicorn.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "campaignid.asgi:application", "--host",
             "127.0.0.1", "--port", str(port), "--workers", str(workers), "--lifespan", "off"],
            cwd=ROOT, env=env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            time.sleep(2.0 if workers > 1 else 0.5)  # every worker process up
            return process
        except OSError:
            time.sleep(0.2)
    raise SystemExit("uvicorn did not start: see var/bench-webhooks-uvicorn.log")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000,
                        help="sent messages per channel (SMS and WhatsApp)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--per-post", type=int, nargs=2, default=[1, 20],
                        metavar=("DELIVERED", "READ"),
                        help="WhatsApp statuses per notification, in the two runs")
    options = parser.parse_args()

    setup_django()
    from django.conf import settings
    from django.core.management import call_command

    from campaigns.services import program_create
    from distribution.models import Message

    call_command("migrate", verbosity=0)
    program = program_create(slug=f"bench-webhooks-{secrets.token_hex(4)}",
                             name="Bench webhooks", quota=0)
    try:
        campaign, token, ids = make_messages(program=program, count=options.messages)
        port = free_port()
        server = start_uvicorn(port, options.workers, Path(settings.VAR_DIR))
        sampler = TreeSampler([server])
        sampler.start()
        host = f"127.0.0.1:{port}"
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
              f"({os.cpu_count()} cores); uvicorn --workers {options.workers}, "
              f"{options.connections} connections")
        try:
            runs = [
                ("Orange delivery receipts, 1 per POST", "sms", Message.Status.DELIVERED,
                 list(orange_requests(host, token, ids["sms"]))),
            ] + [
                (f"WhatsApp {status} statuses, {per_post} per signed POST", "whatsapp", status,
                 list(whatsapp_requests(host, ids["whatsapp"], per_post, status)))
                for status, per_post in zip((Message.Status.DELIVERED, Message.Status.READ),
                                            options.per_post, strict=True)
            ]
            for title, channel, status, requests in runs:
                sampler.sample()
                cpu_before = sampler.cpu_seconds()
                seconds, statuses, seen = uvloop.run(fire(port, requests, options.connections))
                sampler.sample()
                cpu = sampler.cpu_seconds() - cpu_before
                applied = Message.objects.filter(campaign=campaign, channel=channel,
                                                 status=status).count()
                verdict = "all applied" if applied == options.messages else "MISSING"
                print(f"{title}: {len(requests)} requests, {statuses} statuses in {seconds:.2f} s"
                      f" = {statuses / seconds:.0f} callbacks/s, {len(requests) / seconds:.0f}"
                      f" requests/s; HTTP {seen}; {status} in the database {applied}/"
                      f"{options.messages}: {verdict}; uvicorn CPU "
                      f"{cpu * 1000 / len(requests):.2f} ms per request")
        finally:
            sampler.stop()
            print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            os.killpg(server.pid, 15)
            server.wait(timeout=30)
            print(sampler.report("uvicorn"))
            own = os.times()
            print(f"load generator (this process): CPU {own.user + own.system:.1f} s")
    finally:
        program.delete()


if __name__ == "__main__":
    main()
