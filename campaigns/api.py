"""REST API of programs and campaigns. Each view parses its input with a serializer, calls one
service or selector, and serializes the answer; another program's campaign is a 404."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns import import_template, lifecycle, readiness, selectors
from campaigns.access import (
    Need,
    access_for_request,
    api_campaign_for,
    require,
    require_to_create,
)
from campaigns.csv_export import csv_response
from campaigns.serializers import (
    CampaignArchiveSerializer,
    CampaignCreateSerializer,
    CampaignDetailSerializer,
    CampaignDuplicateSerializer,
    CampaignListQuerySerializer,
    CampaignListSerializer,
    CampaignUpdateSerializer,
)
from campaigns.services import quota_balance


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents campaigns.authentication.ApiKeyAuthentication: either header will do."""

    target_class = "campaigns.authentication.ApiKeyAuthentication"
    name = ["bearerAuth", "apiKeyAuth"]

    def get_security_requirement(self, auto_schema):
        return [{"bearerAuth": []}, {"apiKeyAuth": []}]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <key>"},
            {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        ]


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The campaign's state does not allow this."
    default_code = "conflict"


ID_PARAMETER = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)
INCLUDE_DELETED_PARAMETER = OpenApiParameter(
    "include_deleted", OpenApiTypes.BOOL, description="Also find a soft-deleted campaign."
)
PURGE_PARAMETER = OpenApiParameter(
    "purge", OpenApiTypes.BOOL, description="Delete for good (program admins only)."
)
ERRORS = {
    400: OpenApiResponse(description="Invalid input; `fields` names each bad field."),
    403: OpenApiResponse(description="The caller's role may not do this."),
    404: OpenApiResponse(description="No such campaign in the caller's program."),
}


class MeSerializer(serializers.Serializer):
    program = inline_serializer(
        "MeProgram",
        {"id": serializers.IntegerField(), "slug": serializers.CharField(),
         "name": serializers.CharField()},
    )
    role = serializers.CharField()
    can_view_sensitive = serializers.BooleanField()
    quota_balance = serializers.IntegerField()


class MeView(APIView):
    """Who the caller acts as: program, role, quota balance."""

    @extend_schema(operation_id="me", responses=MeSerializer)
    def get(self, request):
        access = access_for_request(request)
        return Response(
            {
                "program": {"id": access.program.pk, "slug": access.program.slug,
                            "name": access.program.name},
                "role": access.role,
                "can_view_sensitive": access.can_view_sensitive,
                "quota_balance": quota_balance(program=access.program),
            }
        )


class CampaignListView(APIView):
    @extend_schema(
        operation_id="campaigns_list",
        parameters=[CampaignListQuerySerializer],
        responses={200: CampaignListSerializer, 400: ERRORS[400]},
    )
    def get(self, request):
        """The program's campaigns, filtered, sorted and paginated."""
        access = access_for_request(request)
        params = _list_params(request)
        rows, meta, query = selectors.campaign_list(program=access.program, params=params)
        body = {"data": rows, "meta": meta, "query": query}
        if params["include_aggregations"]:
            body["aggregations"] = selectors.campaign_aggregations(
                program=access.program, params=params
            )
        return Response(CampaignListSerializer(body).data)

    @extend_schema(
        operation_id="campaigns_create",
        request=CampaignCreateSerializer,
        responses={201: CampaignDetailSerializer, 400: ERRORS[400], 403: ERRORS[403]},
    )
    def post(self, request):
        """A new draft campaign."""
        access = access_for_request(request)
        data = _valid(CampaignCreateSerializer, request.data)
        require_to_create(access, campaign_type=data["campaign_type"],
                          sensitive=data.get("sensitive"))
        campaign = _service(
            lifecycle.campaign_create, program=access.program, user=access.user, **data
        )
        return _detail_response(campaign, status.HTTP_201_CREATED)


class CsvRenderer(BaseRenderer):
    """Lets a client ask for `Accept: text/csv`; the view writes the CSV itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, (str, bytes)) else JSONRenderer().render(data)


EXPORT_COLUMNS = (
    "id", "name", "prefix", "type", "language", "status", "dpi", "beneficiaries",
    "created_at", "archived_at",
)


class CampaignExportView(APIView):
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        operation_id="campaigns_export_csv",
        parameters=[CampaignListQuerySerializer],
        responses={(200, "text/csv"): OpenApiTypes.STR, 400: ERRORS[400]},
    )
    def get(self, request):
        """The same filtered list as `GET /api/campaigns/`, every page, as CSV."""
        access = access_for_request(request)
        params = _list_params(request)
        campaigns = selectors.campaign_filter(program=access.program, params=params)
        rows = (
            (c.pk, c.name, c.prefix, c.campaign_type, c.language, c.status, c.dpi,
             c.beneficiary_count, c.created_at, c.archived_at)
            for c in campaigns.iterator(chunk_size=500)
        )
        filename = f"campaigns-{access.program.slug}-{timezone.localdate():%Y%m%d}.csv"
        return csv_response(EXPORT_COLUMNS, rows, filename=filename, stream=False)


class CampaignImportTemplateView(APIView):
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        operation_id="campaigns_import_template_csv",
        parameters=[ID_PARAMETER],
        responses={(200, "text/csv"): OpenApiTypes.STR, 404: ERRORS[404]},
    )
    def get(self, request, pk):
        """The CSV template of the campaign's import: the standard columns, then the columns
        its card template prints per person, and one example row."""
        return import_template.import_template_response(api_campaign_for(request, pk, Need.READ))


class CampaignDetailView(APIView):
    @extend_schema(
        operation_id="campaigns_retrieve",
        parameters=[ID_PARAMETER, INCLUDE_DELETED_PARAMETER],
        responses={200: CampaignDetailSerializer, 404: ERRORS[404]},
    )
    def get(self, request, pk):
        """A campaign with its metrics and its readiness to generate cards."""
        include_deleted = _flag(request, "include_deleted")
        return _detail_response(
            api_campaign_for(request, pk, Need.READ, deleted=include_deleted)
        )

    @extend_schema(
        operation_id="campaigns_partial_update",
        parameters=[ID_PARAMETER],
        request=CampaignUpdateSerializer,
        responses={200: CampaignDetailSerializer, **ERRORS},
    )
    def patch(self, request, pk):
        """Change a campaign's settings; `prefix` and `campaign_type` cannot change."""
        campaign = api_campaign_for(request, pk, Need.WRITE)
        data = _valid(CampaignUpdateSerializer, request.data)
        if data.get("sensitive") is False and campaign.is_sensitive:
            # Lifting the protection exposes people to every member: a program admin's call.
            require(access_for_request(request), Need.ADMIN, campaign)
        return _detail_response(_service(lifecycle.campaign_update, campaign=campaign, **data))

    @extend_schema(
        operation_id="campaigns_destroy",
        parameters=[ID_PARAMETER, PURGE_PARAMETER],
        responses={
            204: OpenApiResponse(description="Deleted."),
            **ERRORS,
            409: OpenApiResponse(description="A job is running, or the ledger holds its jobs."),
        },
    )
    def delete(self, request, pk):
        """Soft delete (restorable); `?purge=true` deletes for good."""
        if _flag(request, "purge"):
            campaign = api_campaign_for(request, pk, Need.ADMIN, deleted=True)
            _service(lifecycle.campaign_purge, campaign=campaign)
        else:
            campaign = api_campaign_for(request, pk, Need.WRITE)
            _service(lifecycle.campaign_soft_delete, campaign=campaign)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CampaignRestoreView(APIView):
    @extend_schema(
        operation_id="campaigns_restore",
        parameters=[ID_PARAMETER],
        request=None,
        responses={200: CampaignDetailSerializer, 403: ERRORS[403], 404: ERRORS[404]},
    )
    def post(self, request, pk):
        """Undo a soft delete."""
        campaign = api_campaign_for(request, pk, Need.WRITE, deleted=True)
        return _detail_response(_service(lifecycle.campaign_restore, campaign=campaign))


class CampaignDuplicateView(APIView):
    @extend_schema(
        operation_id="campaigns_duplicate",
        parameters=[ID_PARAMETER],
        request=CampaignDuplicateSerializer,
        responses={201: CampaignDetailSerializer, **ERRORS},
    )
    def post(self, request, pk):
        """A new draft campaign with the same settings and template options, no beneficiaries."""
        campaign = api_campaign_for(request, pk, Need.WRITE)
        data = _valid(CampaignDuplicateSerializer, request.data)
        copy = _service(
            lifecycle.campaign_duplicate,
            campaign=campaign,
            prefix=data["prefix"],
            name=data.get("name") or None,
            user=access_for_request(request).user,
        )
        return _detail_response(copy, status.HTTP_201_CREATED)


class CampaignArchiveView(APIView):
    @extend_schema(
        operation_id="campaigns_archive",
        parameters=[ID_PARAMETER],
        request=CampaignArchiveSerializer,
        responses={200: CampaignDetailSerializer, **ERRORS},
    )
    def post(self, request, pk):
        """Archive the campaign (`{"archived": false}` un-archives it)."""
        campaign = api_campaign_for(request, pk, Need.WRITE)
        data = _valid(CampaignArchiveSerializer, request.data)
        service = lifecycle.campaign_archive if data["archived"] else lifecycle.campaign_unarchive
        return _detail_response(_service(service, campaign=campaign))


class CampaignUnarchiveView(APIView):
    @extend_schema(
        operation_id="campaigns_unarchive",
        parameters=[ID_PARAMETER],
        request=None,
        responses={200: CampaignDetailSerializer, 403: ERRORS[403], 404: ERRORS[404]},
    )
    def post(self, request, pk):
        """Bring an archived campaign back to the default lists."""
        campaign = api_campaign_for(request, pk, Need.WRITE)
        return _detail_response(_service(lifecycle.campaign_unarchive, campaign=campaign))


def _detail_response(campaign, code=status.HTTP_200_OK):
    metrics = selectors.campaign_metrics(campaign=campaign)
    campaign.beneficiary_count = metrics["beneficiaries"]
    campaign.metrics = metrics
    campaign.readiness = readiness.campaign_readiness(campaign=campaign, metrics=metrics)
    return Response(CampaignDetailSerializer(campaign).data, status=code)


def _list_params(request):
    return _valid(CampaignListQuerySerializer, request.query_params)


def _valid(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _service(function, **kwargs):
    """Call a lifecycle service, turning its errors into API answers."""
    try:
        return function(**kwargs)
    except DjangoValidationError as exc:
        raise ValidationError(serializers.as_serializer_error(exc)) from None
    except lifecycle.CampaignConflict as exc:
        raise Conflict(str(exc)) from None


def _flag(request, name):
    value = request.query_params.get(name, "")
    if value.strip().lower() in ("", "0", "false", "no", "off"):
        return False
    if value.strip().lower() in ("1", "true", "yes", "on"):
        return True
    raise ValidationError({name: [_("Must be true or false.")]})
