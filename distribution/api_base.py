"""What the distribution API views share: error answers, the campaign lookup, turning a
service's ValidationError into the API's 400."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError

from campaigns.access import access_for_request
from campaigns.models import Campaign

ID_PARAMETER = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)
ERRORS = {
    400: OpenApiResponse(description="Invalid input; `fields` names each bad field."),
    403: OpenApiResponse(description="The caller's role (or sensitive-data grant) does not "
                                     "allow this."),
    404: OpenApiResponse(description="No such object in the caller's program."),
    409: OpenApiResponse(description="The object's state does not allow this."),
}
SENSITIVE = _("This campaign holds sensitive (HIV) data; your access does not include it.")


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The state does not allow this."
    default_code = "conflict"


class ErrorOutput(serializers.Serializer):
    error = serializers.CharField()
    fields = serializers.DictField(required=False)


def campaign_for(request, pk, *, for_sending=False):
    """The caller's (alive) campaign `pk`, else 404; 403 when sending needs the sensitive
    grant the caller lacks."""
    access = access_for_request(request)
    campaign = (
        Campaign.objects.for_program(access.program).alive().select_related("program")
        .filter(pk=pk).first()
    )
    if campaign is None:
        raise NotFound(_("Campaign not found."))
    if for_sending:
        may_send(access, campaign)
    return campaign


def may_send(access, campaign):
    """Messages carry the holder's name: HIV campaigns need the sensitive grant."""
    if campaign.is_sensitive and not access.can_view_sensitive:
        raise PermissionDenied(SENSITIVE)


def service_call(function, **kwargs):
    """Runs a service, its ValidationError becoming a 400 that names the fields."""
    try:
        return function(**kwargs)
    except DjangoValidationError as exc:
        raise ValidationError(serializers.as_serializer_error(exc)) from None
