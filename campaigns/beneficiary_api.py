"""/api/campaigns/<id>/beneficiaries: import (CSV upload or JSON rows) and the paginated list.

The rules of an import live in campaigns/imports.py (reading) and campaigns/beneficiary_upsert.py
(row rules, the write); this view only picks the input,
calls the service and shapes the answer.
"""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.access import MAX_OFFSET, Need, api_campaign_for
from campaigns.beneficiary_facets import facets
from campaigns.beneficiary_search import beneficiary_search
from campaigns.imports import (
    ImportRejected,
    ImportTooLarge,
    beneficiaries_import,
    too_many_bytes,
)
from campaigns.models import Beneficiary
from campaigns.phones import mask_phone

# Room for the multipart envelope around a file of IMPORT_MAX_BYTES.
ENVELOPE_BYTES = 64 * 1024
NO_INPUT_MESSAGE = (
    'Send a CSV file in the multipart field "file", or a JSON body {"beneficiaries": [...]}.'
)


class BeneficiaryRowSerializer(serializers.Serializer):
    """One JSON row; described for the docs, checked by campaigns.imports (per-row errors)."""

    external_id = serializers.CharField(
        required=False, help_text="Your id (e.g. a DHIS2 enrollment uid); an existing one updates."
    )
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    date_of_birth = serializers.CharField(help_text="YYYY-MM-DD (or DD/MM/YYYY)")
    sex = serializers.ChoiceField(choices=["F", "M"])
    phone_number = serializers.CharField(
        required=False, help_text="E.164; without + the program's country is assumed"
    )
    mpi_id = serializers.CharField(required=False)
    consent_whatsapp = serializers.CharField(required=False, help_text="yes/no (empty = no)")
    consent_sms = serializers.CharField(required=False, help_text="yes/no (empty = no)")
    consent_wallet = serializers.CharField(required=False, help_text="yes/no (empty = no)")
    opted_out = serializers.CharField(
        required=False, help_text="yes/no (also true/false, 1/0, oui/non). yes records that "
        "the person asked to receive no more messages (opted_out_at, opted_out_source "
        "\"import\"); no clears nothing: only staff lift an opt-out.")
    attributes = serializers.DictField(
        required=False, help_text="Template fields; unknown keys of the row also land here."
    )


class ImportJsonSerializer(serializers.Serializer):
    beneficiaries = BeneficiaryRowSerializer(many=True)


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="CSV, UTF-8 (BOM allowed), comma or semicolon separated, header on line 1: "
        "external_id, first_name, last_name, date_of_birth, sex, phone_number, mpi_id, "
        "consent_whatsapp, consent_sms, consent_wallet, opted_out; other columns go to "
        "attributes."
    )


class ImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    total = serializers.IntegerField(help_text="created + updated: rows in this import")


class RowErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(
        help_text="CSV: line in the file, header = 1. JSON: position in the list, from 1."
    )
    field = serializers.CharField(help_text="The column, as named in the input.")
    field_label = serializers.CharField(help_text="The column's name in the user's language.")
    message = serializers.CharField()


class ImportRejectedSerializer(serializers.Serializer):
    error = serializers.CharField()
    # Rows refused (the import's rules), or `fields` when the request itself is malformed.
    errors = RowErrorSerializer(many=True, required=False)
    fields = serializers.DictField(required=False)


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    fields = serializers.DictField(required=False)


class BeneficiaryOutSerializer(serializers.ModelSerializer):
    phone = serializers.SerializerMethodField(help_text="Masked, e.g. +22177***4567")
    class Meta:
        model = Beneficiary
        fields = [
            "id", "external_id", "first_name", "last_name", "date_of_birth", "sex", "phone",
            "mpi_id", "attributes", "consent_whatsapp", "consent_sms", "consent_wallet",
            "opted_out_at", "opted_out_source", "created_at", "updated_at",
        ]

    def get_fields(self):
        fields = super().get_fields()
        for facet in facets():  # a facet's own value of each person (delivery_status)
            if facet.row_help_text:
                fields[facet.name] = serializers.ChoiceField(
                    read_only=True, choices=[code for code, _label in facet.choices],
                    help_text=facet.row_help_text,
                )
        return fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_phone(self, beneficiary):
        return mask_phone(beneficiary.phone)


class ListQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=200,
        help_text="Every word must match a first or last name, external_id or mpi_id (part "
        "of it), a phone's last digits (4 or more; spaces allowed) or a card code (whole or "
        "its end).",
    )
    limit = serializers.IntegerField(required=False, default=50, min_value=1, max_value=500)
    offset = serializers.IntegerField(required=False, default=0, min_value=0,
                                      max_value=MAX_OFFSET)

    def get_fields(self):
        fields = super().get_fields()
        for facet in facets():  # card_status, delivery_status...
            fields[facet.name] = serializers.ChoiceField(
                required=False, allow_blank=True,
                choices=[code for code, _label in facet.choices], help_text=facet.help_text,
            )
        return fields


class ListMetaSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()


class BeneficiaryPageSerializer(serializers.Serializer):
    data = BeneficiaryOutSerializer(many=True)
    meta = ListMetaSerializer()


# drf-spectacular names a `pk` URL argument `id` in the document (SCHEMA_COERCE_PATH_PK).
CAMPAIGN_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH,
                               description="Campaign id")
ACCESS_RESPONSES = {
    403: ErrorSerializer,  # a viewer writing, or an HIV campaign without can_view_sensitive
    404: ErrorSerializer,
}


class CampaignBeneficiariesView(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        operation_id="campaign_beneficiaries_list",
        summary="List a campaign's beneficiaries (phone numbers masked)",
        parameters=[CAMPAIGN_ID, ListQuerySerializer],
        responses={200: BeneficiaryPageSerializer, 400: ErrorSerializer, **ACCESS_RESPONSES},
    )
    def get(self, request, pk):
        campaign = api_campaign_for(request, pk, Need.PEOPLE)
        query = ListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        limit, offset = filters["limit"], filters["offset"]
        beneficiaries = beneficiary_search(campaign=campaign, q=filters.get("q", ""),
                                           filters=filters)
        page = beneficiaries[offset : offset + limit]
        return Response({
            "data": BeneficiaryOutSerializer(page, many=True).data,
            "meta": {"total": beneficiaries.count(), "limit": limit, "offset": offset},
        })

    @extend_schema(
        operation_id="campaign_beneficiaries_import",
        summary="Import beneficiaries: all rows or none",
        description=(
            "A CSV upload (multipart field `file`) or JSON rows. Every row is checked first; "
            "if any is bad, nothing is saved and every bad row is listed. A row whose "
            "external_id already exists in the campaign updates that beneficiary."
        ),
        parameters=[CAMPAIGN_ID],
        request={
            "multipart/form-data": ImportUploadSerializer,
            "application/json": ImportJsonSerializer,
        },
        responses={
            201: ImportResultSerializer,
            400: ImportRejectedSerializer,
            # IMPORT_MAX_BYTES or IMPORT_MAX_ROWS passed; the error names the limit.
            413: ErrorSerializer,
            **ACCESS_RESPONSES,
        },
        examples=[
            OpenApiExample(
                "JSON rows",
                request_only=True,
                media_type="application/json",
                value={"beneficiaries": [{
                    "external_id": "qhFWCEPyYng", "first_name": "Aya", "last_name": "Essomba",
                    "date_of_birth": "2021-02-03", "sex": "F", "phone_number": "+221771234567",
                    "consent_whatsapp": "yes", "consent_sms": "no",
                }]},
            ),
            OpenApiExample(
                "Rejected",
                response_only=True,
                status_codes=["400"],
                value={
                    "error": "2 rows were rejected; nothing was imported.",
                    "errors": [
                        {"line": 31, "field": "last_name", "message": "last name only spaces"},
                        {"line": 110, "field": "phone_number", "message": "phone has letters"},
                    ],
                },
            ),
        ],
    )
    def post(self, request, pk):
        campaign = api_campaign_for(request, pk, Need.WRITE)
        declared = request.META.get("CONTENT_LENGTH") or ""
        if declared.isdigit() and int(declared) > settings.IMPORT_MAX_BYTES + ENVELOPE_BYTES:
            # Refused before the body is parsed.
            multipart = request.content_type.startswith("multipart/")
            return _too_large(too_many_bytes("file" if multipart else "beneficiaries"))
        upload = request.FILES.get("file")
        if upload is not None:
            source = {"csv_file": upload}
        elif hasattr(request.data, "get") and "beneficiaries" in request.data:
            source = {"rows": request.data.get("beneficiaries")}
        else:
            return Response(
                {"error": NO_INPUT_MESSAGE, "fields": {"file": [NO_INPUT_MESSAGE]}},
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            result = beneficiaries_import(campaign=campaign, **source)
        except ImportTooLarge as refused:
            return _too_large(refused)
        except ImportRejected as rejected:
            return Response(
                {"error": rejected.message, "errors": rejected.errors},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(
            {"created": result.created, "updated": result.updated, "total": result.total},
            status=status.HTTP_201_CREATED,
        )


def _too_large(refused):
    field = refused.errors[0]["field"]
    return Response({"error": refused.message, "fields": {field: [refused.message]}},
                    status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
