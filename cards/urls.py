from django.urls import path

from cards import views

urlpatterns = [
    path("campaigns/<int:pk>/generate/", views.job_start, name="job-start"),
    path("jobs/<int:pk>/", views.job_detail, name="job-detail"),
    path("jobs/<int:pk>/cancel/", views.job_cancel, name="job-cancel"),
    path("campaigns/<int:pk>/design/", views.campaign_design, name="campaign-design"),
    path("campaigns/<int:pk>/design/logo/", views.program_logo_upload, name="program-logo-upload"),
    path("programs/<int:pk>/logo/", views.program_logo, name="program-logo"),
    path("cards/templates/<slug:template_id>/preview.png", views.template_preview,
         name="template-preview"),
]
