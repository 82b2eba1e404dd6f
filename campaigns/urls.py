"""Browser pages. The API lives under /api/ (campaigns/api_urls.py)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from campaigns import views, wizard
from campaigns.forms import LoginForm

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="registration/login.html",
            authentication_form=LoginForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("program/", views.program_switch, name="program-switch"),
    path("", views.dashboard, name="dashboard"),
    path("campaigns/", views.campaign_list, name="campaign-list"),
    path("quota/", views.quota_ledger, name="quota-ledger"),
    path("campaigns/new/", wizard.campaign_wizard_start, name="campaign-wizard"),
    path("campaigns/new/<slug:step>/", wizard.campaign_wizard, name="campaign-wizard-step"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign-detail"),
    path("campaigns/<int:pk>/import/", views.campaign_import, name="campaign-import"),
    path(
        "campaigns/<int:pk>/import-template.csv",
        views.campaign_import_template,
        name="campaign-import-template",
    ),
    path("campaigns/<int:pk>/archive/", views.campaign_archive, name="campaign-archive"),
    path("campaigns/<int:pk>/unarchive/", views.campaign_unarchive, name="campaign-unarchive"),
    path("campaigns/<int:pk>/delete/", views.campaign_delete, name="campaign-delete"),
    path("campaigns/<int:pk>/restore/", views.campaign_restore, name="campaign-restore"),
    path("campaigns/<int:pk>/duplicate/", views.campaign_duplicate, name="campaign-duplicate"),
]
