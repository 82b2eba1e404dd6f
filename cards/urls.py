from django.urls import path

from cards import views

urlpatterns = [
    path("campaigns/<int:pk>/generate/", views.job_start, name="job-start"),
    path("jobs/<int:pk>/", views.job_detail, name="job-detail"),
    path("jobs/<int:pk>/cancel/", views.job_cancel, name="job-cancel"),
]
