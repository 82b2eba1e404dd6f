"""A campaign's distribution metrics (distribution.figures.campaign_distribution_metrics via
settings.CAMPAIGN_METRICS): people counted once each across dispatches and single sends, in
the API detail and on the campaign page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.models import Role
from campaigns.selectors import campaign_metrics
from distribution.figures import campaign_distribution_metrics
from distribution.models import Dispatch, DispatchRecipient
from tests.factories import (
    api_client,
    make_api_key,
    make_beneficiary,
    make_campaign,
    make_dispatch,
    make_issued_cards,
    make_message,
    make_program,
    make_user,
)

pytestmark = pytest.mark.django_db


def _recipient(dispatch, card, status, tries=0, **fields):
    return DispatchRecipient.objects.create(dispatch=dispatch, beneficiary=card.beneficiary,
                                            card=card, status=status, tries=tries, **fields)


@pytest.fixture
def campaign():
    """Seven people: a single send accepted (A), a dispatch success after a failure (B), a
    dispatch failure (C), a failure queued for a retry (D), a skip (E), a pending single send
    (F) and one never touched (G)."""
    campaign = make_campaign(program=make_program())
    a, b, c, d, e, f = make_issued_cards(campaign=campaign, count=6, with_png=False)
    make_beneficiary(campaign=campaign)
    run = make_dispatch(campaign=campaign)
    Dispatch.objects.filter(pk=run.pk).update(status=Dispatch.Status.RUNNING)
    make_message(card=a, status="sent")
    make_message(card=b, dispatch=run, status="failed")
    make_message(card=b, dispatch=run, status="delivered", attempt=2)
    _recipient(run, b, "succeeded", tries=2)
    make_message(card=c, dispatch=run, status="failed")
    make_message(card=c, dispatch=run, status="failed", attempt=2)
    _recipient(run, c, "failed", tries=2)
    make_message(card=d, dispatch=run, status="failed")
    _recipient(run, d, "queued", tries=1)
    _recipient(run, e, "skipped", skip_reason="no_consent")
    make_message(card=f, status="pending")
    return campaign


def _figures(campaign):
    return campaign_metrics(campaign=campaign)


def test_contacted_counts_people_with_an_attempt_once_each(campaign):
    assert _figures(campaign)["contacted"] == 5


def test_succeeded_counts_accepted_messages_of_dispatches_and_single_sends(campaign):
    assert _figures(campaign)["succeeded"] == 2


def test_failed_leaves_out_successes_pending_sends_and_queued_retries(campaign):
    assert _figures(campaign)["failed"] == 1


def test_skipped_counts_people_a_dispatch_skipped(campaign):
    assert _figures(campaign)["skipped"] == 1


def test_to_retry_counts_people_queued_after_a_failed_attempt(campaign):
    assert _figures(campaign)["to_retry"] == 1


def test_contact_rate_is_over_beneficiaries(campaign):
    assert _figures(campaign)["contact_rate"] == round(5 / 7, 4)


def test_success_rate_is_over_contacted(campaign):
    assert _figures(campaign)["success_rate"] == 0.4


def test_a_skip_followed_by_a_success_elsewhere_is_not_skipped():
    campaign = make_campaign(program=make_program())
    (card,) = make_issued_cards(campaign=campaign, count=1, with_png=False)
    _recipient(make_dispatch(campaign=campaign), card, "skipped", skip_reason="no_phone")
    make_message(card=card, status="read")
    assert (_figures(campaign)["skipped"], _figures(campaign)["succeeded"]) == (0, 1)


def test_a_queued_person_of_a_finished_dispatch_is_failed_not_to_retry():
    campaign = make_campaign(program=make_program())
    (card,) = make_issued_cards(campaign=campaign, count=1, with_png=False)
    run = make_dispatch(campaign=campaign)
    Dispatch.objects.filter(pk=run.pk).update(status=Dispatch.Status.DONE)
    make_message(card=card, dispatch=run, status="failed")
    _recipient(run, card, "queued", tries=1)
    assert (_figures(campaign)["to_retry"], _figures(campaign)["failed"]) == (0, 1)


def test_another_campaigns_messages_do_not_count(campaign):
    other = make_campaign(program=campaign.program)
    (card,) = make_issued_cards(campaign=other, count=1, with_png=False)
    make_message(card=card, status="sent")
    assert _figures(other)["contacted"] == 1
    assert _figures(campaign)["contacted"] == 5


def test_rates_are_null_when_nothing_to_divide_by():
    campaign = make_campaign(program=make_program())
    figures = _figures(campaign)
    assert (figures["contact_rate"], figures["success_rate"]) == (None, None)


def test_the_figures_take_one_query(campaign):
    with CaptureQueriesContext(connection) as queries:
        campaign_distribution_metrics(campaign=campaign, metrics={"beneficiaries": 7})
    assert len(queries) == 1


def test_the_api_detail_carries_the_figures(campaign):
    client = api_client(make_api_key(program=campaign.program, role=Role.VIEWER))
    metrics = client.get(f"/api/campaigns/{campaign.pk}").json()["metrics"]
    assert {k: metrics[k] for k in ("contacted", "succeeded", "failed", "skipped", "to_retry",
                                    "contact_rate", "success_rate")} == {
        "contacted": 5, "succeeded": 2, "failed": 1, "skipped": 1, "to_retry": 1,
        "contact_rate": 0.7143, "success_rate": 0.4}


def test_the_campaign_page_shows_the_figures(client, campaign):
    client.force_login(make_user(program=campaign.program, role=Role.VIEWER))
    page = client.get(f"/campaigns/{campaign.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-kpi="contacted"' in page
    assert "71 %" in page and "40 %" in page
