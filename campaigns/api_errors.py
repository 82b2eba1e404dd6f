"""One JSON error shape for the whole API: {"error": <message>, "fields": {...}}."""

import json

from django.http import JsonResponse
from django.utils.translation import gettext as _
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and set(data) == {"detail"}:
        response.data = {"error": str(data["detail"])}
    elif isinstance(data, dict):
        fields = {k: v for k, v in data.items() if k not in ("non_field_errors", "detail")}
        general = data.get("non_field_errors") or data.get("detail")
        message = general[0] if isinstance(general, list) and general else general
        if not message and fields:
            first_field, first_error = next(iter(fields.items()))
            detail = first_error[0] if isinstance(first_error, list) else first_error
            message = f"{first_field}: {detail}"
        response.data = {"error": str(message or "Invalid request."), "fields": fields}
    elif isinstance(data, list):
        response.data = {"error": str(data[0]) if data else "Invalid request."}
    return response


class JsonErrorsMiddleware:
    """Under /api/, an error answer Django itself made (no route matched, a 500, whatever an
    inner middleware raised) is JSON in the same shape, never an HTML page (with DEBUG on,
    the debug page). Django has logged a 500 before it reaches here."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path.startswith("/api/")
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return self.json_error(response)
        return response

    @staticmethod
    def json_error(response):
        body = _json_body(response)
        if isinstance(body, dict) and "error" in body:
            # An API error rendered under another media type (a CSV or PNG view's renderer).
            message = body.pop("error")
        elif response.status_code >= 500:
            message = _("Internal error")
        elif response.status_code == 404:
            message = _("Not found.")
        else:
            message = response.reason_phrase
        body = body if isinstance(body, dict) else {}
        json_response = JsonResponse({"error": str(message), **body}, status=response.status_code)
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                json_response[header] = response[header]
        return json_response


def _json_body(response):
    if response.streaming:
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        return None
