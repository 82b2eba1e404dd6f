"""WebSocket /ws/dispatches/<id>?token=<api key>: the run's snapshot on connect, then every
event of group "dispatch-<id>". A browser may rely on its session cookie instead of a token."""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from campaigns.access import SESSION_PROGRAM_KEY, access_for_api_key, access_for_user
from campaigns.authentication import api_key_for
from distribution.dispatches import dispatch_snapshot
from distribution.events import dispatch_group
from distribution.models import Dispatch

CLOSE_UNAUTHORISED = 4401
CLOSE_NOT_FOUND = 4404


class DispatchProgressConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.dispatch_id = int(self.scope["url_route"]["kwargs"]["dispatch_id"])
        self.close_code_reason = CLOSE_NOT_FOUND
        snapshot = await self.snapshot_for_caller()
        if snapshot is None:
            # Accept then close with a code, so the client learns why.
            await self.accept()
            await self.close(code=self.close_code_reason)
            return
        await self.channel_layer.group_add(dispatch_group(self.dispatch_id), self.channel_name)
        await self.accept()
        await self.send_json(snapshot)

    async def disconnect(self, code):
        await self.channel_layer.group_discard(dispatch_group(self.dispatch_id), self.channel_name)

    async def dispatch_event(self, message):
        await self.send_json(message["data"])

    @database_sync_to_async
    def snapshot_for_caller(self):
        token = (parse_qs(self.scope.get("query_string", b"").decode()).get("token") or [""])[0]
        if token:
            api_key = api_key_for(token)
            access = access_for_api_key(api_key) if api_key else None
        else:
            session = self.scope.get("session")
            access = access_for_user(
                self.scope.get("user"), session.get(SESSION_PROGRAM_KEY) if session else None
            )
        if access is None:
            self.close_code_reason = CLOSE_UNAUTHORISED
            return None
        dispatch = (
            Dispatch.objects.for_program(access.program).select_related("campaign")
            .filter(pk=self.dispatch_id).first()
        )
        if dispatch is None:
            return None
        return dispatch_snapshot(dispatch)
