"""A sensitive (HIV) campaign through every route of the URLconf: members without the
"can view sensitive" grant, viewer or operator, get 403 or 404 on every route that reads
personal data or changes anything, and nothing changes; members with the grant still work.

The routes are read from the URLconf (pages and API), so a new route is swept the day it is
added. The few that only show the campaign's own record (name, status, counts) are listed in
READ_ONLY_ROUTES and must not show the holder's name to the ungranted.
"""

import re

import pytest
from django.core.files.base import ContentFile

from campaigns.dhis2.models import Dhis2SyncRun
from campaigns.models import Beneficiary, Campaign, Job, Role
from cards.models import Card
from distribution.models import Dispatch, Message, MessageTemplate
from tests.factories import (
    api_client,
    make_api_key,
    make_beneficiary,
    make_campaign,
    make_card,
    make_dispatch,
    make_message,
    make_program,
    make_user,
)
from tests.routes import url_routes, view_class_of

pytestmark = pytest.mark.django_db

HOLDER_NAME = "Zeinabou"
GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<regex>[^)]*)\)|<(?:(?P<conv>\w+):)?(?P<pname>\w+)>")
# Public or not about one campaign: the verification page (v/, and V/C/ as the printed QR
# spells it) and keys (tested for what they show in test_verification_*), webhooks, the
# admin (test_admin_privacy), the language switch, the templates' sample previews and the
# program's logo (test_private_files); a Wallet short link and a pass's logo (w/: redirect
# or image only, test_wallet_links).
NOT_CAMPAIGN_ROUTES = re.compile(
    r"^(admin/|i18n/|\^?webhooks/|\^?v/|\^V/C/|\^?w/|\.well-known/|cards/templates/"
    r"|api/\^templates/|programs/)"
)
# (route, method) that show the campaign's own record only: allowed without the grant.
READ_ONLY_ROUTES = {
    ("api/^campaigns/(?P<pk>\\d+)/?$", "get"),
    ("campaigns/<int:pk>/", "get"),
    ("api/^campaigns/(?P<pk>\\d+)/jobs/?$", "get"),
    ("api/^jobs/(?P<pk>\\d+)/?$", "get"),
    ("api/^campaigns/(?P<pk>\\d+)/design/?$", "get"),
    ("campaigns/<int:pk>/design/", "get"),
    # Preview re-renders a sample card with unsaved choices (viewers use it without
    # JavaScript); Save and Validate, the same route with another action, need WRITE.
    ("campaigns/<int:pk>/design/", "post"),
    ("api/^campaigns/(?P<pk>\\d+)/preview\\.png/?$", "get"),
    ("api/^campaigns/(?P<pk>\\d+)/dhis2/?$", "get"),
    ("api/^campaigns/(?P<pk>\\d+)/dhis2/syncs/?$", "get"),
    ("api/^dhis2/syncs/(?P<pk>\\d+)/?$", "get"),
    ("campaigns/<int:pk>/dhis2/", "get"),
    ("api/^campaigns/(?P<pk>\\d+)/dispatches/?$", "get"),
    ("api/^dispatches/(?P<pk>\\d+)/?$", "get"),
    ("api/^campaigns/(?P<pk>\\d+)/message-templates/?$", "get"),
    # The import's CSV template: column names and a fictional example row, no person.
    ("api/^campaigns/(?P<pk>\\d+)/import-template\\.csv/?$", "get"),
    ("campaigns/<int:pk>/import-template.csv", "get"),
}
# Routes a program admin alone may call: the granted operator's 403 there is about the role.
ADMIN_ONLY = {
    ("api/^campaigns/(?P<pk>\\d+)/?$", "patch"),  # BODY lifts `sensitive`: an admin's call
    ("campaigns/<int:pk>/design/logo/", "post"),  # the logo is the program's
}
BODY = {
    "reason": "lost", "archived": True, "name": "Changed", "prefix": "NEWPX", "full": True,
    "body": "Bonjour {first_name}", "channel": "sms", "first_channel": "sms",
    "phone_number": "+221770000000", "message": "hello", "include_mpi_id": False,
    "beneficiaries": [{"first_name": "A", "last_name": "B", "sex": "F",
                       "date_of_birth": "2020-01-01", "external_id": "x1"}],
    "program_uid": "IpHINAT79UW", "org_unit_uid": "ImspTQPwCqd", "template_options": {},
    "language": "fr", "sensitive": False,
}


def _routes():
    """(route, view, methods) of every pattern that names a campaign's object."""

    for route, callback in url_routes():
        names = [m["name"] or m["pname"] for m in GROUP.finditer(route)]
        if NOT_CAMPAIGN_ROUTES.match(route) or not any(_is_id(n) for n in names):
            continue
        view_class = view_class_of(callback)
        if view_class is not None:
            methods = [m for m in ("get", "post", "put", "patch", "delete")
                       if hasattr(view_class, m)]
        else:
            methods = ["get", "post"]
        for path_route in _alternatives(route):
            yield route, path_route, methods


def _is_id(name):
    return name in ("pk", "id", "code") or name.endswith("_id")


def _alternatives(route):
    """A route with `(?P<artifact>pdf|zip|...)` once per alternative."""
    match = next((m for m in GROUP.finditer(route) if m["name"] and not _is_id(m["name"])
                  and "|" in m["regex"]), None)
    if match is None:
        return [route]
    return [route[: match.start()] + f"(?P<{match['name']}>{choice})" + route[match.end():]
            for choice in match["regex"].split("|")]


CASES = [
    pytest.param(route, path_route, method, id=f"{method.upper()} {path_route}")
    for route, path_route, methods in _routes()
    for method in methods
]


@pytest.fixture
def world():
    program = make_program()
    campaign = make_campaign(program=program, campaign_type="hiv", name="Cohorte PTME")
    person = make_beneficiary(campaign=campaign, first_name=HOLDER_NAME, last_name="Faye")
    job = Job.objects.create(campaign=campaign, status=Job.Status.COMPLETED, total_cards=1,
                             cards_generated=1, progress=100)
    for artifact in ("pdf", "zip", "portal", "manifest"):
        getattr(job, artifact).save(f"job{job.pk}.{artifact}", ContentFile(b"artifact"))
    card = make_card(campaign=campaign, beneficiary=person, job=job)
    sync = Dhis2SyncRun.objects.create(campaign=campaign, status="completed")
    dispatch = make_dispatch(campaign=campaign)
    make_message(card=card)
    return {
        "program": program, "campaign": campaign, "person": person,
        "ids": {"campaigns": campaign.pk, "jobs": job.pk, "syncs": sync.pk,
                "dispatches": dispatch.pk, "cards": card.code,
                "beneficiaries": person.pk, "google-wallet": person.external_id},
    }


def _path(path_route, world):
    """`api/^campaigns/(?P<pk>\\d+)/jobs/?$` -> `/api/campaigns/12/jobs`."""

    def fill(match):
        name = match["name"] or match["pname"]
        if _is_id(name):
            kind = path_route[: match.start()].rstrip("/").replace("^", "").rsplit("/", 1)[-1]
            if kind not in world["ids"]:
                pytest.fail(f"{path_route}: no object of kind {kind!r}; add it to the world")
            return str(world["ids"][kind])
        alternatives = (match["regex"] or "").split("|")
        return alternatives[0] if match["regex"] else "fr"

    path = GROUP.sub(fill, path_route)
    return "/" + path.replace("^", "").replace("$", "").replace("/?", "").replace("\\.", ".")


def _client(world, *, role, granted, api):
    if api:
        return api_client(make_api_key(program=world["program"], role=role,
                                       can_view_sensitive=granted))
    client = api_client()
    client.force_login(make_user(program=world["program"], role=role,
                                 can_view_sensitive=granted))
    return client


def _call(client, method, path):
    return getattr(client, method)(path, BODY, format="json")


def _state(world):
    """What a refused call must leave as it was."""
    campaign = world["campaign"]
    return {
        "campaigns": list(Campaign.objects.filter(program=world["program"]).values()),
        "people": list(Beneficiary.objects.filter(campaign__program=world["program"]).values()),
        "cards": list(Card.objects.filter(campaign=campaign).values()),
        "jobs": list(Job.objects.filter(campaign=campaign).values()),
        "syncs": list(Dhis2SyncRun.objects.filter(campaign=campaign).values()),
        "dispatches": list(Dispatch.objects.filter(campaign=campaign).values()),
        "messages": list(Message.objects.filter(campaign=campaign).values()),
        "templates": list(MessageTemplate.objects.filter(campaign=campaign).values()),
        "link": hasattr(Campaign.objects.get(pk=campaign.pk), "dhis2_link"),
    }


def test_the_sweep_covers_every_kind_of_campaign_route():
    swept = {path_route for _route, path_route, _methods in _routes()}
    for expected in ("beneficiaries", "jobs", "download", "cards", "dispatches", "dhis2",
                     "message-templates", "design", "registry", "import", "generate", "send"):
        assert any(expected in route for route in swept), expected


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
@pytest.mark.parametrize(("route", "path_route", "method"), CASES)
def test_a_member_without_the_grant_is_refused_and_changes_nothing(world, route, path_route,
                                                                   method, role):
    client = _client(world, role=role, granted=False, api=route.startswith("api/"))
    path = _path(path_route, world)
    before = _state(world)
    response = _call(client, method, path)
    if (route, method) in READ_ONLY_ROUTES:
        assert response.status_code in (200, 403, 404), f"{method} {path}"
        assert HOLDER_NAME not in response.content.decode(errors="replace")
    else:
        assert response.status_code in (403, 404, 405), (
            f"{method.upper()} {path} as an ungranted {role}: {response.status_code}"
        )
    assert _state(world) == before


@pytest.mark.parametrize(("route", "path_route", "method"), CASES)
def test_a_member_with_the_grant_is_let_through(world, route, path_route, method):
    role = Role.ADMIN if (route, method) in ADMIN_ONLY else Role.OPERATOR
    client = _client(world, role=role, granted=True, api=route.startswith("api/"))
    path = _path(path_route, world)
    response = _call(client, method, path)
    assert response.status_code not in (401, 403, 404), (
        f"{method.upper()} {path} as a granted {role}: {response.status_code} "
        f"{response.content[:200]!r}"
    )


def test_the_ungranted_see_the_campaign_but_not_its_people(world):
    client = _client(world, role=Role.OPERATOR, granted=False, api=False)
    page = client.get(f"/campaigns/{world['campaign'].pk}/")
    assert page.status_code == 200
    assert "Cohorte PTME" in page.content.decode()
    assert HOLDER_NAME not in page.content.decode()


def test_the_refusal_names_the_missing_grant(world):
    client = _client(world, role=Role.OPERATOR, granted=False, api=True)
    response = client.get(f"/api/campaigns/{world['campaign'].pk}/beneficiaries")
    assert response.status_code == 403
    assert "can view sensitive" in response.json()["error"]


def test_a_campaign_flagged_sensitive_is_protected_like_hiv():
    program = make_program()
    campaign = make_campaign(program=program, campaign_type="vaccination", sensitive=True)
    make_beneficiary(campaign=campaign, first_name=HOLDER_NAME)
    client = api_client(make_api_key(program=program, role=Role.OPERATOR))
    assert client.get(f"/api/campaigns/{campaign.pk}/beneficiaries").status_code == 403


def test_program_lists_hide_sensitive_people_from_the_ungranted(world):
    client = _client(world, role=Role.OPERATOR, granted=False, api=True)
    for path in ("/api/distribution/logs", "/api/distribution/logs.csv",
                 "/api/campaigns/export.csv"):
        response = client.get(path)
        assert response.status_code == 200, path
        body = (b"".join(response.streaming_content) if response.streaming
                else response.content)
        assert HOLDER_NAME.encode() not in body
    logs = client.get("/api/distribution/logs").json()
    assert logs["meta"]["total"] == 0


@pytest.mark.parametrize("body", [{"campaign_type": "hiv"},
                                  {"campaign_type": "vaccination", "sensitive": True}])
def test_making_a_sensitive_campaign_takes_the_grant(body):
    program = make_program()
    client = api_client(make_api_key(program=program, role=Role.OPERATOR))
    response = client.post("/api/campaigns/", {"name": "Cohorte", "prefix": "COH", **body},
                           format="json")
    assert response.status_code == 403
    assert not Campaign.objects.filter(program=program).exists()
