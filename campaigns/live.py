"""The one WebSocket consumer shape for live objects (generation jobs, dispatch runs, DHIS2
syncs): a single-use `?ticket=` (POST /api/ws-tickets, campaigns/ws_tickets.py) or the
browser's session picks the program. An API key in the URL (`?token=`) would be written to
access logs: refused unless WS_ACCEPT_API_KEY_IN_URL. The object must be that program's;
the client gets its snapshot on connect, then every event of its group. A refused client
is accepted then closed with a code (4401 who are you, 4403 not allowed, 4404 not yours),
so it learns why (a refused handshake only says 403)."""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404

from campaigns.access import SESSION_PROGRAM_KEY, access_for_api_key, access_for_user
from campaigns.authentication import api_key_for
from campaigns.ws_tickets import ws_ticket_redeem

CLOSE_UNAUTHORISED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404


class ProgramObjectConsumer(AsyncJsonWebsocketConsumer):
    url_kwarg = "pk"

    def group_for(self, object_id):
        raise NotImplementedError

    def snapshot_for(self, access, object_id):
        """The object's snapshot when the access seam lets `access` read it; else None, or
        the seam's Http404 / PermissionDenied."""
        raise NotImplementedError

    async def connect(self):
        self.object_id = int(self.scope["url_route"]["kwargs"][self.url_kwarg])
        snapshot, close_code = await self._snapshot_for_caller()
        if snapshot is None:
            await self.accept()
            await self.close(code=close_code)
            return
        await self.channel_layer.group_add(self.group_for(self.object_id), self.channel_name)
        await self.accept()
        await self.send_json(snapshot)

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group_for(self.object_id), self.channel_name)

    async def live_event(self, message):
        """An event of campaignid.live_events, already the client's JSON."""
        await self.send_json(message["data"])

    @database_sync_to_async
    def _snapshot_for_caller(self):
        query = parse_qs(self.scope.get("query_string", b"").decode())
        ticket = (query.get("ticket") or [""])[0]
        token = (query.get("token") or [""])[0]
        if ticket:
            api_key = ws_ticket_redeem(ticket=ticket)
            access = access_for_api_key(api_key) if api_key else None
        elif token:
            api_key = api_key_for(token) if settings.WS_ACCEPT_API_KEY_IN_URL else None
            access = access_for_api_key(api_key) if api_key else None
        else:
            session = self.scope.get("session")
            access = access_for_user(
                self.scope.get("user"), session.get(SESSION_PROGRAM_KEY) if session else None
            )
        if access is None:
            return None, CLOSE_UNAUTHORISED
        try:
            snapshot = self.snapshot_for(access, self.object_id)
        except Http404:
            return None, CLOSE_NOT_FOUND
        except PermissionDenied:
            return None, CLOSE_FORBIDDEN
        return snapshot, (None if snapshot is not None else CLOSE_NOT_FOUND)
