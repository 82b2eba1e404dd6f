"""One JSON error shape for the whole API: {"error": <message>, "fields": {...}}."""

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
