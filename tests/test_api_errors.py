"""Every answer under /api/ is JSON, a 500 too; numbers too large for the database are refused
(400 naming the field, or 404 for a path id), never a server error."""

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.urls import include, path
from drf_spectacular.generators import SchemaGenerator
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from campaigns.models import Role
from tests.factories import api_client, make_api_key, make_beneficiary, make_campaign

pytestmark = pytest.mark.django_db

BEYOND_64_BITS = 2**64


def _plain_view_that_fails(request):
    raise RuntimeError("a bug")


class _ApiViewThatFails(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("a bug")


# The test-only URL map (@override_settings(ROOT_URLCONF=__name__)): the project's, plus two
# views that fail the way a bug does.
urlpatterns = [
    path("api/test/drf-failure/", _ApiViewThatFails.as_view()),
    path("api/test/django-failure/", _plain_view_that_fails),
    path("", include("campaignid.urls")),
]


@pytest.fixture
def client(program):
    client = api_client(make_api_key(program=program, role=Role.ADMIN))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _bug_client():
    # The default test client re-raises a view's exception; a browser gets the answer.
    return Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")


@override_settings(ROOT_URLCONF=__name__)
def test_an_exception_in_an_api_view_answers_json_500():
    response = _bug_client().get("/api/test/drf-failure/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "Internal error"}


@override_settings(ROOT_URLCONF=__name__, DEBUG=True)
def test_the_debug_page_never_answers_under_api():
    response = _bug_client().get("/api/test/django-failure/")
    assert response.status_code == 500
    assert response.json() == {"error": "Internal error"}


def test_an_unknown_api_route_answers_json_404(client):
    response = client.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"error": "Not found."}


def test_a_csv_export_refusal_is_json(client):
    response = client.get("/api/distribution/logs.csv?limit=0", HTTP_ACCEPT="text/csv")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "limit" in response.json()["fields"]


def test_an_offset_beyond_the_database_is_refused(client):
    response = client.get("/api/campaigns/?offset=654366209278775525376")
    assert response.status_code == 400
    assert "offset" in response.json()["fields"]


def test_a_log_filter_id_beyond_64_bits_is_refused(client):
    response = client.get("/api/distribution/logs/?campaign=32589158477190044731")
    assert response.status_code == 400
    assert "campaign" in response.json()["fields"]


def test_a_beneficiary_id_beyond_64_bits_is_refused_by_a_job(client, program):
    campaign = make_campaign(program=program)
    make_beneficiary(campaign=campaign)
    response = client.post(f"/api/campaigns/{campaign.pk}/jobs",
                           {"beneficiaries": [BEYOND_64_BITS]}, format="json")
    assert response.status_code == 400
    assert "beneficiaries" in response.json()["fields"]


def test_a_dispatch_refuses_a_beneficiary_id_beyond_64_bits(client, program):
    campaign = make_campaign(program=program)
    response = client.post(f"/api/campaigns/{campaign.pk}/dispatches",
                           {"first_channel": "sms", "beneficiary_ids": [BEYOND_64_BITS]},
                           format="json")
    assert response.status_code == 400
    assert "beneficiary_ids" in response.json()["fields"]


def _id_routes():
    document = SchemaGenerator().get_schema(request=None, public=True)
    for route, operations in document["paths"].items():
        if "{id}" in route:
            for method in operations:
                yield method, route


@pytest.mark.parametrize(("method", "route"), list(_id_routes()))
def test_a_path_id_beyond_64_bits_is_not_found(client, method, route):
    url = route.replace("{id}", str(BEYOND_64_BITS)).replace("{language}", "fr").replace(
        "{action}", "start").replace("{artifact}", "pdf")
    response = getattr(client, method)(url, {}, format="json")
    assert response.status_code == 404, response.content
    assert "error" in response.json()
    # The request left the connection usable: no database error was swallowed.
    assert connection.is_usable()
