"""The API's error answers in the OpenAPI document, added in one place rather than on each view.

Every operation needs a key (401) and a role or grant that allows it (403); one with a path
parameter names an object the caller may not have (404), as does an unknown `?format=`; one
that takes input can refuse it (400), and a body of a type it does not read (415); API keys
are throttled (429). Each error answer, declared
here or on a view without a body, gets the JSON shape campaigns.api_errors gives it:
{"error": ..., "fields": {...}}. Integer path ids are documented with the range a database id
has.
"""

from campaigns.access import MAX_ID

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {"type": "string"},
        "fields": {
            "type": "object",
            "additionalProperties": True,
            "description": "Each refused input field and why.",
        },
    },
    "required": ["error"],
}
ERROR_REF = {"$ref": "#/components/schemas/ApiError"}
DESCRIPTIONS = {
    "400": "Invalid input; `fields` names each bad field.",
    "401": "No API key, or an unknown or revoked one.",
    "403": "The caller's role (or sensitive-data grant) does not allow this.",
    "404": "No such object in the caller's program.",
    "415": "The body's Content-Type is not one this operation reads.",
    "429": "Too many requests; `Retry-After` says when to try again.",
}


def document_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    result.setdefault("components", {}).setdefault("schemas", {})["ApiError"] = ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter["in"] == "path" and (
                    schema.get("type") == "integer" or schema.get("pattern") == r"^\d+$"
                ):
                    # A database id (drf-spectacular reads an undeclared one from the route's
                    # `\d+` as a string); a larger one is a 404 (campaigns.access).
                    parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
            responses = operation.setdefault("responses", {})
            query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            expected = ["401", "403", "429"]
            # DRF answers an unknown `?format=` with a 404.
            if "{" in path or "format" in query:
                expected.append("404")
            if operation.get("requestBody") or query:
                expected.append("400")
            if operation.get("requestBody"):
                # DRF's answer to a body no parser of the view reads (found by schemathesis:
                # a multipart body whose part has no usable headers).
                expected.append("415")
            for status in expected:
                responses.setdefault(status, {"description": DESCRIPTIONS[status]})
            for status, response in responses.items():
                if status.startswith(("4", "5")) and "content" not in response:
                    response["content"] = {"application/json": {"schema": ERROR_REF}}
    return result
