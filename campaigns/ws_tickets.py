"""Single-use WebSocket tickets: how an API client opens a live-progress socket without
putting its key in the URL (URLs end up in access logs).

`POST /api/ws-tickets` (API key) returns a random ticket that stands for that key for
WS_TICKET_SECONDS and one connection: `ws(s)://host/ws/jobs/<id>?ticket=<ticket>`. Redis keeps
only the ticket's SHA-256 and the key's id, and GETDEL hands it out once.
"""

import functools
import hashlib
import secrets

import redis
from django.conf import settings

from campaigns.models import ApiKey

PREFIX = "ws-ticket:"


@functools.lru_cache(maxsize=4)
def _redis(url):
    return redis.Redis.from_url(url, socket_timeout=2)


def _key(ticket):
    return PREFIX + hashlib.sha256(ticket.encode()).hexdigest()


def ws_ticket_issue(*, api_key):
    """A new ticket for `api_key` (the raw ticket: shown to the caller, never stored)."""
    ticket = secrets.token_urlsafe(32)
    _redis(settings.REDIS_URL).set(_key(ticket), api_key.pk, ex=settings.WS_TICKET_SECONDS)
    return ticket


def ws_ticket_redeem(*, ticket):
    """The live ApiKey a ticket stands for, or None (unknown, expired, used, key revoked).
    A ticket works once: redeeming it deletes it."""
    if not ticket or len(ticket) > 100:
        return None
    key_id = _redis(settings.REDIS_URL).getdel(_key(ticket))
    if key_id is None:
        return None
    return (
        ApiKey.objects.select_related("program")
        .filter(pk=int(key_id), revoked_at__isnull=True)
        .first()
    )
