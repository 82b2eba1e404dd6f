"""The dispatch API: create a draft run (defaults, bad fields named), start / pause / resume /
stop, counters, and nobody else's runs."""

import pytest

from campaigns.models import CampaignType, Role
from distribution.models import Dispatch
from tests.factories import (
    api_client,
    make_api_key,
    make_beneficiary,
    make_campaign,
    make_dispatch,
    make_integration,
    make_issued_cards,
    make_program,
)

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.stubs.fixtures"]


@pytest.fixture
def client(campaign):
    return api_client(make_api_key(program=campaign.program, role=Role.OPERATOR))


@pytest.fixture
def sms_ready(campaign, orange_stub):
    make_integration(program=campaign.program, channel="sms", config=orange_stub.config())


def create(client, campaign, **body):
    return client.post(f"/api/campaigns/{campaign.pk}/dispatches",
                       {"first_channel": "sms", **body}, format="json")


def test_a_new_dispatch_is_a_draft_with_the_default_plan(client, campaign):
    response = create(client, campaign)
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "draft"
    assert (body["window_start"], body["window_end"]) == ("07:00", "21:00")
    assert body["weekdays"] == ["mon", "tue", "wed", "thu", "fri"]
    assert body["timezone"] == "Africa/Dakar"
    assert (body["fallback_channel"], body["fallback_after_attempts"], body["max_attempts"]) == (
        "", 2, 3)
    assert body["retry_delays"] == [60, 300, 900]
    assert body["rate_limit_per_second"] == 20
    assert {"total", "contacted", "remaining", "to_retry", "failed", "succeeded", "skipped",
            "progress"} <= set(body)


def test_the_plan_is_taken_as_given(client, campaign):
    body = create(client, campaign, first_channel="whatsapp", fallback_channel="sms",
                  fallback_after_attempts=1, max_attempts=4, retry_delays=[5, 30],
                  window_start="08:30", window_end="18:00", weekdays=["sat", "sun"],
                  rate_limit_per_second=50).json()
    assert (body["first_channel"], body["fallback_channel"]) == ("whatsapp", "sms")
    assert (body["window_start"], body["window_end"], body["weekdays"]) == (
        "08:30", "18:00", ["sat", "sun"])
    assert (body["retry_delays"], body["rate_limit_per_second"]) == ([5, 30], 50)


@pytest.mark.parametrize(("body", "field"), [
    ({"first_channel": "fax"}, "first_channel"),
    ({"fallback_channel": "sms"}, "fallback_channel"),
    ({"fallback_channel": "whatsapp", "fallback_after_attempts": 3, "max_attempts": 3},
     "fallback_after_attempts"),
    ({"window_start": "21:00", "window_end": "07:00"}, "window_end"),
    ({"window_start": "7h"}, "window_start"),
    ({"weekdays": ["monday", "funday"]}, "weekdays"),
    ({"rate_limit_per_second": 0}, "rate_limit_per_second"),
    ({"retry_delays": [-1]}, "retry_delays"),
    ({"max_attempts": 0}, "max_attempts"),
])
def test_a_bad_plan_is_refused_naming_the_field(client, campaign, body, field):
    response = create(client, campaign, **body)
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not Dispatch.objects.exists()


def test_a_window_may_end_at_midnight(client, campaign):
    response = create(client, campaign, window_start="00:00", window_end="00:00")
    assert response.status_code == 201
    assert (response.json()["window_start"], response.json()["window_end"]) == ("00:00", "00:00")


def test_only_the_campaigns_beneficiaries_can_be_chosen(client, campaign):
    ours = make_beneficiary(campaign=campaign)
    theirs = make_beneficiary(campaign=make_campaign(program=campaign.program))
    response = create(client, campaign, beneficiary_ids=[ours.pk, theirs.pk])
    assert response.status_code == 400
    assert str(theirs.pk) in response.json()["fields"]["beneficiary_ids"][0]


def test_starting_counts_who_will_be_reached(client, campaign, sms_ready):
    make_issued_cards(campaign=campaign, count=3, with_png=False)
    make_issued_cards(campaign=campaign, count=1, with_png=False, consent_sms=False)
    make_beneficiary(campaign=campaign)  # no card yet
    dispatch = create(client, campaign).json()
    response = client.post(f"/api/dispatches/{dispatch['id']}/start")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "running"
    assert (body["total"], body["remaining"], body["skipped"]) == (5, 3, 2)
    assert body["skipped_reasons"] == {"no_consent": 1, "no_card": 1}


def test_chosen_beneficiaries_only_are_targeted(client, campaign, sms_ready):
    first, _second = make_issued_cards(campaign=campaign, count=2, with_png=False)
    dispatch = create(client, campaign, beneficiary_ids=[first.beneficiary_id]).json()
    assert client.post(f"/api/dispatches/{dispatch['id']}/start").json()["total"] == 1


def test_a_channel_not_set_up_cannot_start(client, campaign):
    dispatch = create(client, campaign).json()
    response = client.post(f"/api/dispatches/{dispatch['id']}/start")
    assert response.status_code == 409
    assert "sms" in response.json()["error"]
    assert Dispatch.objects.get(pk=dispatch["id"]).status == "draft"


def test_the_lifecycle_and_its_conflicts(client, campaign, sms_ready):
    dispatch_id = create(client, campaign).json()["id"]

    def act(action):
        return client.post(f"/api/dispatches/{dispatch_id}/{action}")

    assert act("pause").status_code == 409
    assert act("start").json()["status"] == "running"
    assert act("start").status_code == 409
    assert act("pause").json()["status"] == "paused"
    assert act("resume").json()["status"] == "running"
    stopped = act("stop").json()
    assert (stopped["status"], stopped["finish_reason"]) == ("done", "stopped")
    assert act("resume").status_code == 409


def test_the_campaigns_dispatches_are_listed_newest_first(client, campaign):
    first = create(client, campaign).json()["id"]
    second = create(client, campaign).json()["id"]
    listed = client.get(f"/api/campaigns/{campaign.pk}/dispatches").json()
    assert [d["id"] for d in listed] == [second, first]


def test_another_programs_dispatch_is_404_and_untouched(client):
    theirs = make_dispatch(campaign=make_campaign(program=make_program()))
    assert client.get(f"/api/dispatches/{theirs.pk}").status_code == 404
    for action in ("start", "pause", "resume", "stop"):
        assert client.post(f"/api/dispatches/{theirs.pk}/{action}").status_code == 404
    assert Dispatch.objects.get(pk=theirs.pk).status == "draft"
    assert create(client, theirs.campaign).status_code == 404


def test_a_viewer_reads_but_cannot_create_or_control(campaign):
    viewer = api_client(make_api_key(program=campaign.program, role=Role.VIEWER))
    dispatch = make_dispatch(campaign=campaign)
    assert viewer.get(f"/api/dispatches/{dispatch.pk}").status_code == 200
    assert create(viewer, campaign).status_code == 403
    assert viewer.post(f"/api/dispatches/{dispatch.pk}/start").status_code == 403


def test_an_hiv_campaign_is_sent_only_with_the_sensitive_grant():
    campaign = make_campaign(program=make_program(), campaign_type=CampaignType.HIV)
    plain = api_client(make_api_key(program=campaign.program))
    granted = api_client(make_api_key(program=campaign.program, can_view_sensitive=True))
    assert create(plain, campaign).status_code == 403
    assert create(granted, campaign).status_code == 201
