"""REST API routes. `re_path(... /?$)` lets integrators write `/campaigns` or `/campaigns/`."""

from django.urls import re_path

from campaigns import api

urlpatterns = [
    re_path(r"^me/?$", api.MeView.as_view(), name="api-me"),
]
