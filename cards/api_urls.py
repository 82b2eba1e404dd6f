from django.urls import re_path

from cards import api

urlpatterns = [
    re_path(r"^campaigns/(?P<pk>\d+)/jobs/?$", api.CampaignJobsView.as_view(),
            name="api-campaign-jobs"),
    re_path(r"^jobs/(?P<pk>\d+)/?$", api.JobDetailView.as_view(), name="api-job"),
    re_path(r"^jobs/(?P<pk>\d+)/cancel/?$", api.JobCancelView.as_view(), name="api-job-cancel"),
    re_path(r"^jobs/(?P<pk>\d+)/download/(?P<artifact>pdf|zip|portal|manifest)/?$",
            api.JobDownloadView.as_view(), name="api-job-download"),
    # Card Studio
    re_path(r"^campaigns/(?P<pk>\d+)/preview\.png/?$", api.CampaignPreviewView.as_view(),
            name="api-campaign-preview"),
    re_path(r"^campaigns/(?P<pk>\d+)/design/?$", api.CampaignDesignView.as_view(),
            name="api-campaign-design"),
    re_path(r"^campaigns/(?P<pk>\d+)/design/validate/?$",
            api.CampaignDesignValidateView.as_view(), name="api-campaign-design-validate"),
    re_path(r"^templates/?$", api.TemplateListView.as_view(), name="api-templates"),
    re_path(r"^templates/(?P<template>[a-z0-9_-]+)/preview\.png/?$",
            api.TemplatePreviewView.as_view(), name="api-template-preview"),
]
