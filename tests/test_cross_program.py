"""Program A's key never reaches program B's objects: every API route that names an object
answers 404, whatever the method, and B's rows stay untouched. Routes without an object id
(lists, the caller's own settings) show only the caller's program.

The routes are read from the URLconf, so a new endpoint is covered the day it is added; a
route naming a kind of object this file cannot build yet fails loudly (add it to
`_b_object_id`).
"""

import re

import pytest
from django.urls import resolve
from django.utils import timezone

from campaigns.dhis2.models import Dhis2SyncRun
from campaigns.models import Campaign, Job, Role
from cards.models import Card
from tests.factories import (
    api_client,
    make_api_key,
    make_beneficiary,
    make_campaign,
    make_card,
    make_dispatch,
    make_job,
    make_program,
)
from tests.routes import url_routes, view_class_of

pytestmark = pytest.mark.django_db

NAMED_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<regex>[^)]*)\)")
METHODS = ("get", "post", "put", "patch", "delete")


def _api_routes():
    """(regex of the full path, view class) for every route under /api/ that names an object."""

    for regex, callback in url_routes():
        view_class = view_class_of(callback)
        names_an_object = any(_is_id(m["name"]) for m in NAMED_GROUP.finditer(regex))
        if regex.startswith("api/") and names_an_object and view_class:
            yield regex, view_class


def _is_id(group_name):
    return group_name in ("pk", "id", "code") or group_name.endswith("_id")


ROUTES = [
    pytest.param(regex, method, view_class, id=f"{method.upper()} {regex}")
    for regex, view_class in _api_routes()
    for method in METHODS
    if hasattr(view_class, method)
]


@pytest.fixture
def world():
    """Program A with an admin key; program B with one of each object."""
    program_a, program_b = make_program(), make_program()
    campaign_b = make_campaign(program=program_b, name="B's campaign")
    beneficiary_b = make_beneficiary(campaign=campaign_b)
    job_b = make_job(campaign=campaign_b, status=Job.Status.COMPLETED, total_cards=1)
    card_b = make_card(campaign=campaign_b, beneficiary=beneficiary_b, job=job_b)
    sync_b = Dhis2SyncRun.objects.create(campaign=campaign_b, status="completed")
    dispatch_b = make_dispatch(campaign=campaign_b)
    return {
        "client_a": api_client(make_api_key(program=program_a, role=Role.ADMIN)),
        "campaigns": campaign_b.pk,
        "jobs": job_b.pk,
        "syncs": sync_b.pk,
        "dispatches": dispatch_b.pk,
        "google-wallet": beneficiary_b.external_id,
        "cards": card_b.code,
        "campaign_b": campaign_b,
        "job_b": job_b,
        "dispatch_b": dispatch_b,
    }


def _b_object_id(world, kind, regex):
    if kind not in world:
        pytest.fail(f"{regex}: no program-B object of kind {kind!r}; add one to the fixture")
    return str(world[kind])


def _concrete_path(regex, world):
    """`api/^campaigns/(?P<pk>\\d+)/jobs/?$` -> `/api/campaigns/12/jobs`."""

    def fill(match):
        before = regex[: match.start()].rstrip("/").replace("^", "")
        kind = before.rsplit("/", 1)[-1]
        if _is_id(match["name"]):
            return _b_object_id(world, kind, regex)
        alternatives = match["regex"].split("|")
        if all(re.fullmatch(r"[\w-]+", a) for a in alternatives):
            return alternatives[0]
        pytest.fail(f"{regex}: cannot fill the group {match['name']!r}")

    path = NAMED_GROUP.sub(fill, regex)
    return "/" + path.replace("^", "").replace("$", "").replace("/?", "").replace("\\.", ".")


def test_the_api_has_object_routes_to_check():
    assert len(ROUTES) >= 10


def test_program_b_itself_reaches_its_campaign_through_the_same_paths(world):
    """The control: the paths built here are right, only the program makes them 404."""
    client_b = api_client(make_api_key(program=world["campaign_b"].program))
    path = _concrete_path(r"api/^campaigns/(?P<pk>\d+)/?$", world)
    assert client_b.get(path).status_code == 200


@pytest.mark.parametrize(("regex", "method", "view_class"), ROUTES)
def test_another_programs_object_is_404(world, regex, method, view_class):
    path = _concrete_path(regex, world)
    # The 404 must come from the view, not from a path that matched nothing.
    assert resolve(path.split("?")[0]).func.view_class is view_class
    response = getattr(world["client_a"], method)(path, {}, format="json")
    assert response.status_code == 404, f"{method.upper()} {path}: {response.status_code}"
    assert "B's" not in response.content.decode()


@pytest.mark.parametrize("method", ["post", "delete"])
def test_another_programs_object_is_404_with_a_plausible_body(world, method):
    """Validation must not run before the lookup: a valid body still gets a 404."""
    campaign_b = world["campaign_b"]
    client = world["client_a"]
    if method == "post":
        rows = {"beneficiaries": [{"first_name": "A", "last_name": "B", "sex": "F",
                                   "date_of_birth": "2020-01-01"}]}
        response = client.post(f"/api/campaigns/{campaign_b.pk}/beneficiaries", rows,
                               format="json")
    else:
        response = client.delete(f"/api/campaigns/{campaign_b.pk}?purge=true")
    assert response.status_code == 404
    assert campaign_b.beneficiaries.count() == 1


def test_calls_on_another_programs_objects_change_nothing(world):
    client = world["client_a"]
    for regex, method, _ in (p.values for p in ROUTES):
        getattr(client, method)(_concrete_path(regex, world), {"archived": True}, format="json")
    campaign_b = Campaign.objects.get(pk=world["campaign_b"].pk)
    assert (campaign_b.name, campaign_b.archived_at, campaign_b.deleted_at) == (
        "B's campaign", None, None
    )
    assert Job.objects.get(pk=world["job_b"].pk).status == Job.Status.COMPLETED
    assert Campaign.objects.filter(program=campaign_b.program).count() == 1
    dispatch_b = world["dispatch_b"]
    assert type(dispatch_b).objects.get(pk=dispatch_b.pk).status == dispatch_b.status
    assert Card.objects.get(code=world["cards"]).revoked_at is None


@pytest.mark.parametrize(
    "request_line",
    [
        "GET /api/campaigns/{pk}?include_deleted=true",
        "POST /api/campaigns/{pk}/restore",
        "DELETE /api/campaigns/{pk}?purge=true",
    ],
)
def test_another_programs_deleted_campaign_is_404_too(request_line):
    campaign_b = make_campaign(program=make_program(), deleted_at=timezone.now())
    client = api_client(make_api_key(program=make_program(), role=Role.ADMIN))
    method, path = request_line.split(" ")
    response = getattr(client, method.lower())(path.format(pk=campaign_b.pk))
    assert response.status_code == 404
    assert Campaign.objects.filter(pk=campaign_b.pk, deleted_at__isnull=False).exists()


def test_lists_and_exports_show_only_the_callers_campaigns():
    program_a = make_program()
    make_campaign(program=program_a, name="ours", prefix="OURS")
    make_campaign(program=make_program(), name="theirs", prefix="THEIRS")
    client = api_client(make_api_key(program=program_a))
    listed = client.get("/api/campaigns?archived=all&include_deleted=true&q=").json()
    assert [row["name"] for row in listed["data"]] == ["ours"]
    exported = client.get("/api/campaigns/export.csv?archived=all").content.decode()
    assert "OURS" in exported and "THEIRS" not in exported


def test_another_programs_integration_settings_stay_invisible():
    program_b = make_program()
    client_b = api_client(make_api_key(program=program_b, role=Role.ADMIN))
    config = {
        "phone_number_id": "109876543210", "access_token": "EAAB-secret-of-b",
        "app_secret": "b-app-secret", "verify_token": "b-verify", "template_name": "card_b",
        "template_language": "fr",
    }
    saved = client_b.put("/api/integrations/whatsapp", {"enabled": True, "config": config},
                         format="json")
    assert saved.status_code == 200, saved.content
    client_a = api_client(make_api_key(program=make_program(), role=Role.ADMIN))
    seen = client_a.get("/api/integrations/whatsapp")
    assert seen.status_code == 200
    assert seen.json()["configured"] is False
    assert "109876543210" not in seen.content.decode()
