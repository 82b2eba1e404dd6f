"""Distribution pages and the providers' webhooks (no /api/ prefix)."""

from django.urls import path, re_path

from distribution import views, wallet_views
from distribution.providers.orange_sms import webhook as orange_webhook
from distribution.providers.registry import CHANNEL_PATTERN
from distribution.providers.whatsapp import webhook as whatsapp_webhook

urlpatterns = [
    # Providers are configured with the URL as typed: with or without the trailing slash.
    re_path(r"^webhooks/whatsapp/?$", whatsapp_webhook.whatsapp, name="webhook-whatsapp"),
    re_path(r"^webhooks/orange/(?P<token>[A-Za-z0-9_-]{10,64})/?$", orange_webhook.orange,
            name="webhook-orange"),
    # Public on purpose (tests/test_sensitive_access.py): a Wallet short link, a pass's logo.
    re_path(r"^w/(?P<token>[A-Za-z0-9_-]{8,24})$", wallet_views.wallet_short_link,
            name="wallet-short-link"),
    path("w/logo/<int:program>-<slug:key>.png", wallet_views.wallet_logo, name="wallet-logo"),
    path("distribution/logs/", views.message_logs, name="distribution-logs"),
    path("campaigns/<int:pk>/distribution/", views.campaign_distribution,
         name="campaign-distribution"),
    path("campaigns/<int:pk>/distribution/dispatches/", views.dispatch_create,
         name="campaign-dispatch-create"),
    path("campaigns/<int:pk>/distribution/message/", views.template_save,
         name="campaign-message-template"),
    re_path(r"^dispatches/(?P<pk>\d+)/(?P<action>start|pause|resume|stop)/$",
            views.dispatch_action, name="dispatch-action"),
    path("campaigns/<int:pk>/beneficiaries/<int:beneficiary_id>/send/", views.beneficiary_send,
         name="beneficiary-send"),
    path("settings/integrations/", views.integration_settings, name="integration-settings"),
    re_path(rf"^settings/integrations/(?P<channel>{CHANNEL_PATTERN})/$",
            views.integration_save, name="integration-save"),
    re_path(rf"^settings/integrations/(?P<channel>{CHANNEL_PATTERN})/test/$",
            views.integration_test, name="integration-test"),
]
