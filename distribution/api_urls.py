"""REST API routes of distribution; `/?$` accepts the path with or without a trailing slash."""

from django.urls import re_path

from distribution import api, api_dispatches, api_logs, api_templates

urlpatterns = [
    re_path(r"^integrations/(?P<channel>whatsapp|sms|wallet)/?$", api.IntegrationView.as_view(),
            name="api-integration"),
    re_path(r"^integrations/(?P<channel>whatsapp|sms|wallet)/test/?$",
            api.IntegrationTestView.as_view(), name="api-integration-test"),
    re_path(r"^campaigns/(?P<pk>\d+)/dispatches/?$",
            api_dispatches.CampaignDispatchesView.as_view(), name="api-campaign-dispatches"),
    re_path(r"^dispatches/(?P<pk>\d+)/?$", api_dispatches.DispatchDetailView.as_view(),
            name="api-dispatch"),
    re_path(r"^dispatches/(?P<pk>\d+)/(?P<action>start|pause|resume|stop)/?$",
            api_dispatches.DispatchActionView.as_view(), name="api-dispatch-action"),
    re_path(r"^campaigns/(?P<pk>\d+)/message-templates/?$", api_templates.TemplatesView.as_view(),
            name="api-message-templates"),
    re_path(r"^campaigns/(?P<pk>\d+)/message-templates/preview/?$",
            api_templates.TemplatePreviewView.as_view(), name="api-message-template-preview"),
    re_path(r"^campaigns/(?P<pk>\d+)/message-templates/(?P<language>fr|en|wo)/?$",
            api_templates.TemplateView.as_view(), name="api-message-template"),
    re_path(r"^distribution/logs/?$", api_logs.MessageLogView.as_view(),
            name="api-distribution-logs"),
    re_path(r"^distribution/logs\.csv/?$", api_logs.MessageLogCsvView.as_view(),
            name="api-distribution-logs-csv"),
]
