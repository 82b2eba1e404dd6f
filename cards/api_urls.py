from django.urls import re_path

from cards import api

urlpatterns = [
    re_path(r"^campaigns/(?P<pk>\d+)/jobs/?$", api.CampaignJobsView.as_view(),
            name="api-campaign-jobs"),
    re_path(r"^jobs/(?P<pk>\d+)/?$", api.JobDetailView.as_view(), name="api-job"),
    re_path(r"^jobs/(?P<pk>\d+)/cancel/?$", api.JobCancelView.as_view(), name="api-job-cancel"),
    re_path(r"^jobs/(?P<pk>\d+)/download/(?P<artifact>pdf|zip|portal|manifest)/?$",
            api.JobDownloadView.as_view(), name="api-job-download"),
]
