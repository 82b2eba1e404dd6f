"""Public verification pages, the published keys and status lists, and the staff's revoke forms."""

from django.urls import path, re_path

from verification import views

CODE = r"(?P<code>[A-Za-z0-9-]{1,40})"

urlpatterns = [
    path(".well-known/campaignid-keys.json", views.published_keys, name="verification-keys"),
    path("v/", views.card_lookup, name="verification-lookup"),
    re_path(r"^v/status/(?P<prefix>[A-Z0-9-]{1,8})\.bin$", views.status_list,
            name="verification-status-list"),
    re_path(rf"^v/c/{CODE}/?$", views.card_page, name="verification-card"),
    # The printed QR's spelling (cards/qr.py): capitals fit the QR's alphanumeric mode.
    re_path(rf"^V/C/{CODE}/?$", views.card_page, name="verification-card-qr"),
    re_path(rf"^cards/{CODE}/revoke/?$", views.card_revoke_form, name="card-revoke"),
    re_path(rf"^cards/{CODE}/unrevoke/?$", views.card_unrevoke_form, name="card-unrevoke"),
]
