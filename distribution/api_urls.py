"""REST API routes of distribution; `/?$` accepts the path with or without a trailing slash."""

from django.urls import re_path

from distribution import api

urlpatterns = [
    re_path(r"^integrations/(?P<channel>whatsapp|sms|wallet)/?$", api.IntegrationView.as_view(),
            name="api-integration"),
    re_path(r"^integrations/(?P<channel>whatsapp|sms|wallet)/test/?$",
            api.IntegrationTestView.as_view(), name="api-integration-test"),
]
