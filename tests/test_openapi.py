"""The OpenAPI document describes the campaigns API and generates without warnings."""

import pytest
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS

from tests.factories import api_client, make_api_key, make_program

pytestmark = pytest.mark.django_db

CAMPAIGN_OPERATIONS = {
    "/api/me/": {"get"},
    "/api/campaigns/": {"get", "post"},
    "/api/campaigns/export.csv/": {"get"},
    "/api/campaigns/{id}/": {"get", "patch", "delete"},
    "/api/campaigns/{id}/restore/": {"post"},
    "/api/campaigns/{id}/duplicate/": {"post"},
    "/api/campaigns/{id}/archive/": {"post"},
    "/api/campaigns/{id}/unarchive/": {"post"},
    "/api/campaigns/{id}/beneficiaries/": {"get", "post"},
}


@pytest.fixture
def schema():
    client = api_client(make_api_key(program=make_program()))
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def test_every_campaign_route_is_in_the_schema(schema):
    for path, methods in CAMPAIGN_OPERATIONS.items():
        assert path in schema["paths"], path
        assert methods <= set(schema["paths"][path]), path


def test_the_list_documents_its_filters(schema):
    parameters = {p["name"] for p in schema["paths"]["/api/campaigns/"]["get"]["parameters"]}
    assert {
        "q", "status", "campaign_type", "archived", "include_deleted", "only_deleted",
        "date_from", "date_to", "sort_field", "sort_dir", "limit", "offset",
        "include_aggregations",
    } <= parameters


def test_the_detail_documents_metrics_and_readiness(schema):
    detail = schema["components"]["schemas"]["CampaignDetail"]["properties"]
    assert {"metrics", "readiness", "template_options"} <= set(detail)
    check = schema["components"]["schemas"]["ReadinessCheck"]["properties"]
    assert {"key", "label", "status", "detail", "action"} <= set(check)


def test_the_export_is_documented_as_csv(schema):
    responses = schema["paths"]["/api/campaigns/export.csv/"]["get"]["responses"]
    assert "text/csv" in responses["200"]["content"]


def test_both_api_key_headers_are_documented(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    assert schemes["apiKeyAuth"]["name"] == "X-API-Key"


def test_schema_generates_without_warnings(tmp_path):
    # The counters are process-wide; start from zero so only this generation counts.
    GENERATOR_STATS.reset()
    # --fail-on-warn raises SchemaGenerationError on any warning or error of any endpoint.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))
    assert (tmp_path / "s.yml").read_text().startswith("openapi: 3")
