from django.urls import re_path

from cards import jobs_api, studio_api

urlpatterns = [
    re_path(r"^campaigns/(?P<pk>\d+)/jobs/?$", jobs_api.CampaignJobsView.as_view(),
            name="api-campaign-jobs"),
    re_path(r"^jobs/(?P<pk>\d+)/?$", jobs_api.JobDetailView.as_view(), name="api-job"),
    re_path(r"^jobs/(?P<pk>\d+)/cancel/?$", jobs_api.JobCancelView.as_view(),
            name="api-job-cancel"),
    re_path(r"^jobs/(?P<pk>\d+)/download/(?P<artifact>pdf|zip|portal|manifest)/?$",
            jobs_api.JobDownloadView.as_view(), name="api-job-download"),
    # Card Studio
    re_path(r"^campaigns/(?P<pk>\d+)/preview\.png/?$", studio_api.CampaignPreviewView.as_view(),
            name="api-campaign-preview"),
    re_path(r"^campaigns/(?P<pk>\d+)/design/?$", studio_api.CampaignDesignView.as_view(),
            name="api-campaign-design"),
    re_path(r"^campaigns/(?P<pk>\d+)/design/validate/?$",
            studio_api.CampaignDesignValidateView.as_view(), name="api-campaign-design-validate"),
    re_path(r"^templates/?$", studio_api.TemplateListView.as_view(), name="api-templates"),
    re_path(r"^templates/(?P<template>[a-z0-9_-]+)/preview\.png/?$",
            studio_api.TemplatePreviewView.as_view(), name="api-template-preview"),
]
