from django.urls import re_path

from campaigns.dhis2.consumers import SyncProgressConsumer
from cards.consumers import JobProgressConsumer
from distribution.consumers import DispatchProgressConsumer

websocket_urlpatterns = [
    re_path(r"^ws/jobs/(?P<job_id>\d+)/?$", JobProgressConsumer.as_asgi()),
    re_path(r"^ws/dhis2/syncs/(?P<run_id>\d+)/?$", SyncProgressConsumer.as_asgi()),
    re_path(r"^ws/dispatches/(?P<dispatch_id>\d+)/?$", DispatchProgressConsumer.as_asgi()),
]
