"""URL map. API routes answer with and without a trailing slash: each app's api_urls.py writes
its routes as `re_path(r"^.../?$")`.

Nothing here serves MEDIA_ROOT, in DEBUG neither: its files hold people's names and cards, so
each leaves only through a view that checks the caller (campaignid/files.py)."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from campaignid import health

urlpatterns = [
    re_path(r"^health/?$", health.view, name="health"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view loads its start-up script from a URL: no inline script for the CSP.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
    path("api/", include("cards.api_urls")),
    path("api/", include("verification.api_urls")),
    path("api/", include("campaigns.dhis2.api_urls")),
    path("api/", include("campaigns.api_urls")),
    path("api/", include("distribution.api.urls")),
    path("", include("cards.urls")),
    path("", include("verification.urls")),
    path("", include("campaigns.dhis2.urls")),
    path("", include("distribution.urls")),
    path("", include("campaigns.urls")),
]
