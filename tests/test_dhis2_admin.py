"""The DHIS2 models in the back-office: read-only, scoped, no secret, sensitive skips hidden."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.dhis2.models import Dhis2SyncRun, Dhis2SyncSkip
from tests.admin_helpers import superuser_client
from tests.factories import make_campaign, make_dhis2_connection, make_program

pytestmark = pytest.mark.django_db


def run_with_skip(campaign_type="vaccination"):
    campaign = make_campaign(program=make_program(), campaign_type=campaign_type)
    started = timezone.now() - timedelta(seconds=75)
    run = Dhis2SyncRun.objects.create(
        campaign=campaign, status="completed", created_count=12, skipped_count=1,
        started_at=started, finished_at=started + timedelta(seconds=75),
    )
    Dhis2SyncSkip.objects.create(run=run, page=1, tracked_entity="Te000000007",
                                 field="first_name", reason="first name missing")
    return run


def test_the_sync_history_shows_counts_duration_and_first_skips():
    run = run_with_skip()
    client = superuser_client()
    listing = client.get(reverse("admin:dhis2_dhis2syncrun_changelist")).content.decode()
    assert "1 min 15 s" in listing
    page = client.get(reverse("admin:dhis2_dhis2syncrun_change", args=[run.pk]))
    assert "Te000000007" in page.content.decode() and "first name missing" in page.content.decode()
    assert 'name="_save"' not in page.content.decode()  # read-only


def test_a_sensitive_campaigns_skips_need_the_sensitive_grant():
    run = run_with_skip(campaign_type="hiv")
    client = superuser_client()
    page = client.get(reverse("admin:dhis2_dhis2syncrun_change", args=[run.pk]))
    assert "Te000000007" not in page.content.decode()
    listing = client.get(reverse("admin:dhis2_dhis2syncskip_changelist")).content.decode()
    assert "Te000000007" not in listing


def test_the_connection_admin_never_shows_the_credentials():
    program = make_program()
    token = "d2pat_secret000000000000000000"
    connection = make_dhis2_connection(program=program, config={
        "base_url": "https://dhis2.example.org", "auth": "token", "token": token})
    page = superuser_client().get(
        reverse("admin:dhis2_dhis2connection_change", args=[connection.pk])
    ).content.decode()
    assert "https://dhis2.example.org" in page
    assert token not in page and connection.config_encrypted not in page
