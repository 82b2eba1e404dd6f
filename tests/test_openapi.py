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


def _integer_inputs(schema, node, where):
    """(where, schema) of every integer a request may carry, following $refs."""
    if "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    if node.get("type") == "integer":
        yield where, node
    for name, child in node.get("properties", {}).items():
        yield from _integer_inputs(schema, child, f"{where}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            yield from _integer_inputs(schema, node[key], f"{where}[]")
    for child in node.get("allOf", []) + node.get("oneOf", []) + node.get("anyOf", []):
        yield from _integer_inputs(schema, child, where)


def test_every_integer_input_is_bounded(schema):
    # Beyond 64 bits a number reaches the database as an error (a 5xx); the API refuses it.
    unbounded = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            label = f"{method.upper()} {path}"
            inputs = [(f"{label} {p['name']}", p["schema"])
                      for p in operation.get("parameters", [])]
            for media in operation.get("requestBody", {}).get("content", {}).values():
                inputs.append((f"{label} body", media["schema"]))
            unbounded += [
                where for name, node in inputs for where, number in
                _integer_inputs(schema, node, name) if "maximum" not in number
                and "enum" not in number
            ]
    assert unbounded == []


def test_every_operation_documents_its_json_auth_errors(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status in ("401", "403", "429"):
                content = operation["responses"][status]["content"]["application/json"]
                assert content["schema"]["$ref"], (method, path, status)


def test_every_operation_with_an_id_documents_404(schema):
    for path, operations in schema["paths"].items():
        if "{" in path:
            for method, operation in operations.items():
                assert "404" in operation["responses"], (method, path)


@pytest.mark.parametrize("path", ["/api/campaigns/{id}/jobs/", "/api/campaigns/{id}/dhis2/syncs/"])
def test_a_list_is_documented_in_its_data_envelope(schema, path):
    ref = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    component = schema["components"]["schemas"][ref["schema"]["$ref"].rsplit("/", 1)[1]]
    assert component["properties"]["data"]["type"] == "array"


def test_a_dispatch_window_is_documented_as_hours_and_minutes(schema):
    window = schema["components"]["schemas"]["DispatchOutput"]["properties"]["window_start"]
    assert "format" not in window
    assert window["pattern"].startswith("^([01]")
