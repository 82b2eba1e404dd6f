"""The one sender of live events: an object's snapshot goes to its channel-layer group after
the commit that made it true, so a client never sees a state the database may still undo.
Progress is throttled per group and process; a final event always goes out. An event is a
courtesy to the screens watching: one that cannot be read or sent (the database connection
just dropped, Redis restarting) is logged and skipped, never allowed to break the work that
sent it; the clients catch up at the next event or by polling (static/js/live.js)."""

import logging
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

EVENT_TYPE = "live.event"  # consumers answer it with their `live_event` handler
PROGRESS_EVENTS_PER_SECOND = 4
_last_sent = {}


def live_event_on_commit(*, group, snapshot, final=False):
    """After commit, send `snapshot()` to `group`; a snapshot of None (the object is gone)
    sends nothing."""

    def send():
        now = time.monotonic()
        if not final and now - _last_sent.get(group, 0) < 1 / PROGRESS_EVENTS_PER_SECOND:
            return
        _last_sent[group] = now
        try:
            data = snapshot()
            if data is not None:
                async_to_sync(get_channel_layer().group_send)(
                    group, {"type": EVENT_TYPE, "data": data})
        except Exception as exc:  # see the module's docstring
            logger.warning("live event for %s not sent (%s)", group, type(exc).__name__)

    transaction.on_commit(send)
