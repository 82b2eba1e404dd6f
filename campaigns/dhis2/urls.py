"""DHIS2 pages (the API routes are in campaigns/dhis2/api_urls.py)."""

from django.urls import path

from campaigns.dhis2 import views

urlpatterns = [
    path("dhis2/connection/", views.connection_settings, name="dhis2-connection"),
    path("dhis2/connection/test/", views.connection_test, name="dhis2-connection-test"),
    path("campaigns/<int:pk>/dhis2/", views.campaign_dhis2, name="campaign-dhis2"),
    path("campaigns/<int:pk>/dhis2/sync/", views.campaign_dhis2_sync, name="campaign-dhis2-sync"),
]
