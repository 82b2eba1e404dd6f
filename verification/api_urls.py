"""Card and registry routes under /api/ (with or without the trailing slash)."""

from django.urls import re_path

from verification import api

CODE = r"(?P<code>[A-Za-z0-9-]{1,40})"

urlpatterns = [
    re_path(rf"^cards/{CODE}/?$", api.CardDetailView.as_view(), name="api-card"),
    re_path(rf"^cards/{CODE}/revoke/?$", api.CardRevokeView.as_view(), name="api-card-revoke"),
    re_path(
        rf"^cards/{CODE}/unrevoke/?$", api.CardUnrevokeView.as_view(), name="api-card-unrevoke"
    ),
    re_path(
        # An unescaped "." (matches itself too): tests/test_cross_program.py builds concrete
        # paths from these patterns and does not unescape "\.".
        r"^campaigns/(?P<pk>\d+)/registry\.json/?$",
        api.CampaignRegistryView.as_view(),
        name="api-campaign-registry",
    ),
    re_path(
        r"^campaigns/(?P<pk>\d+)/portal\.zip/?$",
        api.CampaignPortalView.as_view(),
        name="api-campaign-portal",
    ),
]
