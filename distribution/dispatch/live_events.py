"""Live dispatch events on the channel-layer group "dispatch-<id>", sent after the commit that
made them true; progress events are throttled per dispatch and process (4 a second)."""

import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from distribution.dispatch.progress import dispatch_snapshot
from distribution.models import Dispatch

PROGRESS_EVENTS_PER_SECOND = 4
_last_sent = {}


def dispatch_group(dispatch_id):
    return f"dispatch-{dispatch_id}"


def send_dispatch_event_on_commit(dispatch_id, *, final=False):
    def send():
        now = time.monotonic()
        if not final and now - _last_sent.get(dispatch_id, 0) < 1 / PROGRESS_EVENTS_PER_SECOND:
            return
        _last_sent[dispatch_id] = now
        dispatch = Dispatch.objects.select_related("campaign").filter(pk=dispatch_id).first()
        if dispatch is None:
            return
        async_to_sync(get_channel_layer().group_send)(
            dispatch_group(dispatch_id),
            {"type": "dispatch.event", "data": dispatch_snapshot(dispatch)},
        )

    transaction.on_commit(send)
