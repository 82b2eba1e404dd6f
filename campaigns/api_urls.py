"""REST API routes. `re_path(... /?$)` lets integrators write `/campaigns` or `/campaigns/`."""

from django.urls import re_path

from campaigns import api, beneficiary_api, quota_api, ws_ticket_api

urlpatterns = [
    re_path(r"^me/?$", api.MeView.as_view(), name="api-me"),
    re_path(
        r"^quota/transactions/?$",
        quota_api.QuotaTransactionsView.as_view(),
        name="api-quota-transactions",
    ),
    re_path(r"^ws-tickets/?$", ws_ticket_api.WebSocketTicketView.as_view(), name="api-ws-tickets"),
    re_path(r"^campaigns/?$", api.CampaignListView.as_view(), name="api-campaigns"),
    re_path(
        r"^campaigns/export\.csv/?$", api.CampaignExportView.as_view(), name="api-campaigns-export"
    ),
    re_path(r"^campaigns/(?P<pk>\d+)/?$", api.CampaignDetailView.as_view(), name="api-campaign"),
    re_path(
        r"^campaigns/(?P<pk>\d+)/beneficiaries/?$",
        beneficiary_api.CampaignBeneficiariesView.as_view(),
        name="api-campaign-beneficiaries",
    ),
    re_path(
        r"^campaigns/(?P<pk>\d+)/import-template\.csv/?$",
        api.CampaignImportTemplateView.as_view(),
        name="api-campaign-import-template",
    ),
    re_path(
        r"^campaigns/(?P<pk>\d+)/restore/?$",
        api.CampaignRestoreView.as_view(),
        name="api-campaign-restore",
    ),
    re_path(
        r"^campaigns/(?P<pk>\d+)/duplicate/?$",
        api.CampaignDuplicateView.as_view(),
        name="api-campaign-duplicate",
    ),
    re_path(
        r"^campaigns/(?P<pk>\d+)/archive/?$",
        api.CampaignArchiveView.as_view(),
        name="api-campaign-archive",
    ),
    re_path(
        r"^campaigns/(?P<pk>\d+)/unarchive/?$",
        api.CampaignUnarchiveView.as_view(),
        name="api-campaign-unarchive",
    ),
]
