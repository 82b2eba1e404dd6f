"""REST API routes of the DHIS2 integration; `/?$` accepts the path with or without a slash."""

from django.urls import re_path

from campaigns.dhis2 import api, api_cards

urlpatterns = [
    re_path(r"^integrations/dhis2/?$", api.ConnectionView.as_view(), name="api-dhis2-connection"),
    re_path(r"^integrations/dhis2/test/?$", api.ConnectionTestView.as_view(),
            name="api-dhis2-connection-test"),
    re_path(r"^campaigns/(?P<pk>\d+)/dhis2/?$", api.CampaignLinkView.as_view(),
            name="api-campaign-dhis2"),
    re_path(r"^campaigns/(?P<pk>\d+)/dhis2/sync/?$", api.CampaignSyncView.as_view(),
            name="api-campaign-dhis2-sync"),
    re_path(r"^campaigns/(?P<pk>\d+)/dhis2/syncs/?$", api.CampaignSyncListView.as_view(),
            name="api-campaign-dhis2-syncs"),
    re_path(r"^dhis2/syncs/(?P<pk>\d+)/?$", api.SyncRunView.as_view(), name="api-dhis2-sync"),
    re_path(r"^dhis2/syncs/(?P<pk>\d+)/errors\.csv$", api.SyncRunErrorsView.as_view(),
            name="api-dhis2-sync-errors"),
    re_path(r"^dhis2/send-card/?$", api_cards.SendCardView.as_view(), name="api-send-card"),
    re_path(r"^dhis2/google-wallet/bulk/?$", api_cards.WalletBulkView.as_view(),
            name="api-wallet-bulk"),
    re_path(r"^dhis2/google-wallet/(?P<enrollment_id>[A-Za-z0-9_.:-]{1,64})/?$",
            api_cards.WalletLinkView.as_view(), name="api-wallet-link"),
]
