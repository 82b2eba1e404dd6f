"""Delivery receipts answered in front of Django (campaignid/asgi.py).

Orange calls back once per SMS, one receipt per POST: through Django's request and middleware
stack each cost ~6 ms of CPU, which bounded receipts to ~200/s on two cores. Here a POST to
`/webhooks/orange/<token>` carrying only a `deliveryInfoNotification`, or to
`/webhooks/whatsapp` carrying only `statuses`, is parsed as its view parses it and handed to
the process's ReceiptBatcher; the answer is the view's (200, the same JSON counts) once the
statuses are written in PostgreSQL. Everything else goes to Django unchanged: other methods
and paths, STOP replies (inbound messages), bodies that are not such JSON, a host Django
would refuse, plain HTTP when HTTPS is required, a POST that fails the webhook's check (a
token that names no integration: Django's 404; no valid signature: its 403), and any batch
that failed (Django then applies that POST alone; statuses only move forward, so what the
batch had applied changes nothing twice).

The checks are the views': Orange's token must be an SMS integration's webhook token; a
WhatsApp POST's X-Hub-Signature-256 must be the HMAC of its body under the app secret of the
integration whose phone number id each change names (changes of other numbers are skipped).
Both are looked up per batch, never cached.
"""

import asyncio
import json
import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections
from django.http.request import split_domain_port, validate_host
from django.utils import timezone

from distribution.delivery_status import apply_statuses, outcome_counts
from distribution.integrations import integration_config
from distribution.models import ChannelCode, ProviderIntegration
from distribution.providers.orange_sms import webhook as orange_webhook
from distribution.providers.whatsapp import webhook as whatsapp_webhook

ORANGE_PATH = re.compile(r"^/webhooks/orange/(?P<token>[A-Za-z0-9_-]{10,64})/?$")
WHATSAPP_PATH = re.compile(r"^/webhooks/whatsapp/?$")


@dataclass
class Receipts:
    """One POST's statuses, and the JSON counts it answers once they are applied."""

    channel: str
    token: str = ""  # Orange: the URL's secret
    updates: list = field(default_factory=list)  # Orange: its StatusUpdates
    body: bytes = b""  # WhatsApp: the signed body, its signature and its changes
    signature: str = ""
    changes: list = field(default_factory=list)
    counts: dict | None = None  # None: it failed the webhook's check (Django answers it)


class ReceiptFront:
    """ASGI: delivery receipts applied in batches; any other request to `app`."""

    def __init__(self, app):
        self.app = app
        self._batcher = None

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "") if scope["type"] == "http" else ""
        orange = ORANGE_PATH.match(path)
        if (orange is None and not WHATSAPP_PATH.match(path)) or scope.get("method") != "POST" \
                or not _plain(scope):
            return await self.app(scope, receive, send)
        body = await _read_body(receive)
        if body is None:
            return None  # disconnected, or cut at the size limit (BodyLimit answers 413)
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        receipts = (_orange(payload, orange["token"]) if orange else
                    _whatsapp(payload, body, _header(scope, b"x-hub-signature-256")))
        if receipts is None:
            return await self.app(scope, _replay(body, receive), send)
        try:
            await self.batcher().apply(receipts)
        except Exception:  # the batch failed: Django applies this POST alone
            return await self.app(scope, _replay(body, receive), send)
        if receipts.counts is None:
            return await self.app(scope, _replay(body, receive), send)
        answer = json.dumps(receipts.counts).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(answer)).encode()),
            (b"x-content-type-options", b"nosniff"),
        ]})
        await send({"type": "http.response.body", "body": answer})
        return None

    def batcher(self):
        # Per process: uvicorn's workers each import this module, and a fork keeps no thread.
        if self._batcher is None or self._batcher.pid != os.getpid():
            self._batcher = ReceiptBatcher()
        return self._batcher


class ReceiptBatcher:
    """Group commit: each batch takes every POST's receipts that arrived while the batches
    before it ran. IN_FLIGHT batches at once, on threads of their own: a batch mostly waits
    for PostgreSQL, and the next one fills meanwhile."""

    IN_FLIGHT = 2

    def __init__(self):
        self.pid = os.getpid()
        self.waiting = []
        self.running = 0
        self.threads = ThreadPoolExecutor(max_workers=self.IN_FLIGHT,
                                          thread_name_prefix="receipts")
        self.tasks = set()  # the running drains (the loop keeps only weak references)
        # A batch thread waits on PostgreSQL a few times a batch, and each time takes the GIL
        # back from the event loop parsing requests: at the default 5 ms switch interval
        # that wait, not the database, set the pace.
        sys.setswitchinterval(min(sys.getswitchinterval(), 0.001))

    async def apply(self, receipts):
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self.waiting.append((receipts, done))
        if self.running < self.IN_FLIGHT:
            self.running += 1
            task = loop.create_task(self._drain())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        await done

    async def _drain(self):
        loop = asyncio.get_running_loop()
        try:
            while self.waiting:
                batch, self.waiting = self.waiting, []
                try:
                    await loop.run_in_executor(self.threads, apply_receipts,
                                               [receipts for receipts, _ in batch])
                except Exception as exc:  # each POST of the batch falls back on Django
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                    continue
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)
        finally:
            self.running -= 1


def _orange(payload, token):
    updates = orange_webhook.delivery_updates(payload, now=timezone.now())
    return None if updates is None else Receipts(channel=ChannelCode.SMS, token=token,
                                                 updates=updates)


def _whatsapp(payload, body, signature):
    changes = list(whatsapp_webhook.whatsapp_changes(payload))
    if not changes or any(messages for _phone_id, _statuses, messages in changes):
        return None  # nothing to apply, or people's messages (a STOP): the view's
    return Receipts(channel=ChannelCode.WHATSAPP, body=body, signature=signature,
                    changes=changes)


def apply_receipts(batch):
    """Checks every Receipts of `batch` as its view does, applies their statuses (in order)
    and sets their counts. In autocommit: a batch costs a lookup of its integrations, then
    per program and channel one UPDATE, a statement that commits alone (an id not written yet
    costs a look and its parking: apply_statuses)."""
    close_old_connections()
    try:
        parts = _authentic_parts(batch)  # [(receipts, program id, updates)]
        by_program = {}
        for part in parts:
            by_program.setdefault((part[0].channel, part[1]), []).append(part)
        for (channel, program_id), group in by_program.items():
            outcomes = iter(apply_statuses(
                program_id=program_id, channel=channel,
                updates=[update for _, _, updates in group for update in updates]))
            for receipts, _, updates in group:
                for _update in updates:
                    receipts.counts[next(outcomes)] += 1
    finally:
        close_old_connections()


def _authentic_parts(batch):
    """(receipts, program id, StatusUpdates) of each POST's statuses that pass its view's
    check; those POSTs get their counts (the others keep None: Django answers them)."""
    tokens = {r.token for r in batch if r.channel == ChannelCode.SMS}
    phone_ids = {phone_id for r in batch if r.channel == ChannelCode.WHATSAPP
                 for phone_id, _statuses, _messages in r.changes if phone_id}
    # Unordered: the model's ordering would cost every batch a sort and its SQL.
    programs = dict(ProviderIntegration.objects.filter(
        channel=ChannelCode.SMS, webhook_token__in=tokens,
    ).order_by().values_list("webhook_token", "program_id")) if tokens else {}
    integrations = {i.account_id: i for i in ProviderIntegration.objects.filter(
        channel=ChannelCode.WHATSAPP, account_id__in=phone_ids).order_by()} if phone_ids else {}
    secrets = {}  # phone id -> app secret, each integration's config decrypted once a batch
    parts = []
    for receipts in batch:
        if receipts.channel == ChannelCode.SMS:
            if receipts.token in programs:
                receipts.counts = outcome_counts()
                parts.append((receipts, programs[receipts.token], receipts.updates))
            continue
        trusted = [(phone_id, statuses) for phone_id, statuses, _ in receipts.changes
                   if phone_id in integrations and whatsapp_webhook.signed_with(
                       _secret(secrets, integrations[phone_id]), receipts.body,
                       receipts.signature)]
        if not trusted:
            continue  # the view's 403
        receipts.counts = outcome_counts()
        for phone_id, statuses in trusted:
            updates, untracked = whatsapp_webhook.whatsapp_updates(statuses)
            receipts.counts["unknown"] += untracked
            parts.append((receipts, integrations[phone_id].program_id, updates))
    return parts


def _secret(secrets, integration):
    if integration.account_id not in secrets:
        secrets[integration.account_id] = integration_config(
            integration=integration).get("app_secret", "")
    return secrets[integration.account_id]


def _plain(scope):
    """A request Django would serve as is: an allowed host, and HTTPS when it is required
    (else Django answers it: 400, or the redirect)."""
    domain, _port = split_domain_port(_header(scope, b"host"))
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    return not settings.SECURE_SSL_REDIRECT or _secure(scope)


def _header(scope, wanted):
    return next((value.decode("latin-1") for name, value in scope.get("headers", [])
                 if name == wanted), "")


def _secure(scope):
    """Django's HttpRequest.is_secure: the proxy's header when it is set, else the scheme."""
    header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if header:
        wanted = header[0].removeprefix("HTTP_").lower().replace("_", "-").encode()
        for name, value in scope.get("headers", []):
            if name == wanted:
                return value.decode("latin-1").split(",", 1)[0].strip() == header[1]
    return scope.get("scheme") == "https"


async def _read_body(receive):
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay(body, receive):
    """A receive that hands Django the body already read, then the connection's messages."""
    sent = False

    async def replayed():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
