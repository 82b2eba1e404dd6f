"""WebSocket /ws/jobs/<job_id>?token=<api key>: the job's snapshot on connect, then every
event of group "job-<id>". A browser may rely on its session cookie instead of a token."""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from campaigns.access import SESSION_PROGRAM_KEY, access_for_api_key, access_for_user
from campaigns.authentication import api_key_for
from campaigns.models import Job
from cards.events import job_group, job_snapshot

CLOSE_UNAUTHORISED = 4401
CLOSE_NOT_FOUND = 4404


class JobProgressConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.job_id = int(self.scope["url_route"]["kwargs"]["job_id"])
        snapshot = await self.snapshot_for_caller()
        if snapshot is None:
            # Accept then close with a code, so the client learns why (a refused handshake
            # only says 403).
            await self.accept()
            await self.close(code=self.close_code_reason)
            return
        await self.channel_layer.group_add(job_group(self.job_id), self.channel_name)
        await self.accept()
        await self.send_json(snapshot)

    async def disconnect(self, code):
        await self.channel_layer.group_discard(job_group(self.job_id), self.channel_name)

    async def job_event(self, message):
        await self.send_json(message["data"])

    @database_sync_to_async
    def snapshot_for_caller(self):
        token = (parse_qs(self.scope.get("query_string", b"").decode()).get("token") or [""])[0]
        access = None
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
        job = Job.objects.for_program(access.program).filter(pk=self.job_id).first()
        if job is None:
            self.close_code_reason = CLOSE_NOT_FOUND
            return None
        return job_snapshot(job)
