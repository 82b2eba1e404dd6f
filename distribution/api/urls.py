"""REST API routes of distribution (the DHIS2 ones are in campaigns/dhis2/api_urls.py); `/?$`
accepts the path with or without a trailing slash."""

from django.urls import re_path

from distribution.api import dispatches, integrations, logs, templates, wallet
from distribution.providers.registry import CHANNEL_PATTERN

urlpatterns = [
    re_path(rf"^integrations/(?P<channel>{CHANNEL_PATTERN})/?$",
            integrations.IntegrationView.as_view(), name="api-integration"),
    re_path(rf"^integrations/(?P<channel>{CHANNEL_PATTERN})/test/?$",
            integrations.IntegrationTestView.as_view(), name="api-integration-test"),
    re_path(r"^campaigns/(?P<pk>\d+)/dispatches/?$",
            dispatches.CampaignDispatchesView.as_view(), name="api-campaign-dispatches"),
    re_path(r"^dispatches/(?P<pk>\d+)/?$", dispatches.DispatchDetailView.as_view(),
            name="api-dispatch"),
    re_path(r"^dispatches/(?P<pk>\d+)/(?P<action>start|pause|resume|stop)/?$",
            dispatches.DispatchActionView.as_view(), name="api-dispatch-action"),
    re_path(r"^campaigns/(?P<pk>\d+)/message-templates/?$", templates.TemplatesView.as_view(),
            name="api-message-templates"),
    re_path(r"^campaigns/(?P<pk>\d+)/message-templates/preview/?$",
            templates.TemplatePreviewView.as_view(), name="api-message-template-preview"),
    re_path(r"^campaigns/(?P<pk>\d+)/message-templates/(?P<language>fr|en|wo)/?$",
            templates.TemplateView.as_view(), name="api-message-template"),
    re_path(r"^campaigns/(?P<pk>\d+)/wallet-links\.csv/?$", wallet.WalletLinksCsvView.as_view(),
            name="api-campaign-wallet-links-csv"),
    re_path(r"^distribution/logs/?$", logs.MessageLogView.as_view(),
            name="api-distribution-logs"),
    re_path(r"^distribution/logs\.csv/?$", logs.MessageLogCsvView.as_view(),
            name="api-distribution-logs-csv"),
]
