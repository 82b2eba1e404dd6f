"""What the distribution API views share: error answers, the campaign lookup (through the
access seam), turning a service's ValidationError into the API's 400."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ValidationError

ID_PARAMETER = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)
ERRORS = {
    400: OpenApiResponse(description="Invalid input; `fields` names each bad field."),
    403: OpenApiResponse(description="The caller's role (or sensitive-data grant) does not "
                                     "allow this."),
    404: OpenApiResponse(description="No such object in the caller's program."),
    409: OpenApiResponse(description="The object's state does not allow this."),
}


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The state does not allow this."
    default_code = "conflict"


class ErrorOutput(serializers.Serializer):
    error = serializers.CharField()
    fields = serializers.DictField(required=False)


def service_call(function, **kwargs):
    """Runs a service, its ValidationError becoming a 400 that names the fields."""
    try:
        return function(**kwargs)
    except DjangoValidationError as exc:
        raise ValidationError(serializers.as_serializer_error(exc)) from None
