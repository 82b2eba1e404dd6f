"""REST API of the DHIS2 integration: the program's connection, a campaign's link (program,
org unit, attribute mapping) and its sync runs.

Members read; program admins change the connection; admins and operators test it, change a
campaign's link and start syncs. Failures of DHIS2 itself answer 502 with a message that
names what is wrong.
"""

from django.core.exceptions import ValidationError
from django.http import StreamingHttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.access import Need, access_for_request, api_campaign_for, object_for
from campaigns.dhis2 import connection, mapping, sync
from campaigns.dhis2.client import UID, Dhis2Error
from campaigns.dhis2.events import run_snapshot
from campaigns.dhis2.models import Dhis2SyncRun
from campaigns.permissions import IsProgramAdmin, IsProgramMember

HISTORY_LENGTH = 50


class ConnectionOutput(serializers.Serializer):
    enabled = serializers.BooleanField()
    configured = serializers.BooleanField(help_text="A connection has been saved.")
    config = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        help_text="base_url, auth (token|basic), token, username, password; secrets masked.",
    )
    updated_at = serializers.DateTimeField(allow_null=True)


class ConnectionInput(serializers.Serializer):
    enabled = serializers.BooleanField(required=False, help_text="Omitted: unchanged.")
    config = serializers.DictField(
        child=serializers.CharField(allow_blank=True, allow_null=True),
        help_text=(
            "base_url (the DHIS2 root, e.g. https://dhis2.example.org), auth: `token` with "
            "token (a personal access token d2pat_...) or `basic` with username and password. "
            "A secret left out (or sent back masked) keeps its stored value."
        ),
    )


class ConnectionTestOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    code = serializers.CharField(allow_blank=True, help_text="Kind of failure, when it failed.")
    error = serializers.CharField(allow_blank=True, help_text="What is wrong, in words.")
    version = serializers.CharField(required=False)
    tracker_shape = serializers.CharField(required=False)
    username = serializers.CharField(required=False)
    server = serializers.CharField(required=False)


UID_INVALID = {"invalid": _("Must be a DHIS2 uid: 11 letters and digits, the first a letter.")}


class LinkInput(serializers.Serializer):
    # Checked before any URL is built from them (the client checks again).
    program_uid = serializers.RegexField(UID.pattern, error_messages=UID_INVALID,
                                         help_text="The DHIS2 tracker program.")
    org_unit_uid = serializers.RegexField(UID.pattern, error_messages=UID_INVALID,
                                          help_text="Its org unit; descendants are included.")
    mapping = serializers.DictField(
        child=serializers.CharField(allow_blank=True, allow_null=True),
        help_text=(
            "Field -> tracked-entity attribute uid: first_name, last_name, date_of_birth, sex "
            "(required), phone_number, mpi_id, consent_whatsapp, consent_sms, consent_wallet "
            "and the fields of the campaign's card template."
        ),
    )


class LinkOutput(serializers.Serializer):
    configured = serializers.BooleanField()
    program_uid = serializers.CharField(allow_blank=True)
    org_unit_uid = serializers.CharField(allow_blank=True)
    mapping = serializers.DictField(child=serializers.CharField())
    program_name = serializers.CharField(allow_blank=True)
    org_unit_name = serializers.CharField(allow_blank=True)
    attributes = serializers.DictField(help_text="uid -> {displayName, valueType}")
    updated_at = serializers.DateTimeField(allow_null=True)


class SyncInput(serializers.Serializer):
    full = serializers.BooleanField(
        default=False, help_text="Read every tracked entity, not only those changed since the "
        "last successful sync.",
    )


class SyncRunOutput(serializers.Serializer):
    id = serializers.IntegerField()
    campaign_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Dhis2SyncRun.Status.choices)
    full = serializers.BooleanField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    skipped = serializers.IntegerField()
    pages_done = serializers.IntegerField()
    page_count = serializers.IntegerField(allow_null=True)
    total = serializers.IntegerField(allow_null=True)
    progress = serializers.IntegerField()
    errors_url = serializers.CharField(allow_null=True, help_text="CSV of skipped entities.")
    error = serializers.CharField(allow_blank=True)
    updated_after = serializers.CharField(allow_blank=True)
    updated_before = serializers.CharField(allow_blank=True)
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.CharField()
    started_at = serializers.CharField(allow_null=True)
    finished_at = serializers.CharField(allow_null=True)


class SyncRunList(serializers.Serializer):
    data = SyncRunOutput(many=True)


def _invalid(exc):
    fields = exc.message_dict
    name, messages = next(iter(fields.items()))
    return Response({"error": f"{name}: {messages[0]}", "fields": fields},
                    status=status.HTTP_400_BAD_REQUEST)


def _upstream(exc):
    return Response({"error": str(exc), "code": exc.code}, status=status.HTTP_502_BAD_GATEWAY)


class ConnectionView(APIView):
    def get_permissions(self):
        if self.request.method == "PUT":
            return [IsProgramAdmin()]
        return [IsProgramMember()]

    @extend_schema(operation_id="dhis2_connection_get", responses=ConnectionOutput,
                   summary="The program's DHIS2 connection (secrets masked)")
    def get(self, request):
        view = connection.connection_view(program=access_for_request(request).program)
        return Response(ConnectionOutput(view).data)

    @extend_schema(
        operation_id="dhis2_connection_update", request=ConnectionInput,
        responses={200: ConnectionOutput,
                   400: OpenApiResponse(description="`fields` names each bad setting"),
                   403: OpenApiResponse(description="Only a program admin may change it")},
        summary="Save the program's DHIS2 connection",
    )
    def put(self, request):
        program = access_for_request(request).program
        data = ConnectionInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            connection.connection_save(program=program, config=data.validated_data["config"],
                                       enabled=data.validated_data.get("enabled"))
        except ValidationError as exc:
            return _invalid(exc)
        return Response(ConnectionOutput(connection.connection_view(program=program)).data)


class ConnectionTestView(APIView):
    @extend_schema(
        operation_id="dhis2_connection_test", request=None,
        responses={200: ConnectionTestOutput,
                   409: OpenApiResponse(description="No connection saved yet")},
        summary="Try the saved DHIS2 connection and say what is wrong, if anything",
    )
    def post(self, request):
        try:
            result = connection.connection_test(program=access_for_request(request).program)
        except connection.ConnectionNotConfigured as exc:
            return Response({"error": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(ConnectionTestOutput(result).data)


class CampaignLinkView(APIView):
    @extend_schema(operation_id="campaign_dhis2_get", responses=LinkOutput,
                   summary="A campaign's DHIS2 program, org unit and attribute mapping")
    def get(self, request, pk):
        campaign = api_campaign_for(request, pk, Need.READ)
        return Response(LinkOutput(mapping.link_view(campaign=campaign)).data)

    @extend_schema(
        operation_id="campaign_dhis2_update", request=LinkInput,
        responses={200: LinkOutput,
                   400: OpenApiResponse(description="`fields` names the bad uid or mapping"),
                   409: OpenApiResponse(description="No DHIS2 connection saved"),
                   502: OpenApiResponse(description="DHIS2 could not be asked")},
        summary="Link a campaign to a DHIS2 program (checked against DHIS2)",
    )
    def put(self, request, pk):
        campaign = api_campaign_for(request, pk, Need.WRITE)
        data = LinkInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            client = connection.client_for(program=campaign.program, require_enabled=False)
            mapping.link_save(campaign=campaign, client=client, **data.validated_data)
        except connection.ConnectionNotConfigured as exc:
            return Response({"error": str(exc)}, status=status.HTTP_409_CONFLICT)
        except ValidationError as exc:
            return _invalid(exc)
        except Dhis2Error as exc:
            return _upstream(exc)
        return Response(LinkOutput(mapping.link_view(campaign=campaign)).data)


class CampaignSyncView(APIView):
    @extend_schema(
        operation_id="campaign_dhis2_sync", request=SyncInput,
        responses={202: SyncRunOutput,
                   409: OpenApiResponse(description="A sync is running, or DHIS2 is not set up")},
        summary="Import the campaign's beneficiaries from DHIS2 (in the background)",
    )
    def post(self, request, pk):
        campaign = api_campaign_for(request, pk, Need.WRITE)
        data = SyncInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            run = sync.sync_request(campaign=campaign, user=request.user,
                                    full=data.validated_data["full"])
        except (sync.SyncConflict, sync.SyncNotReady) as exc:
            return Response({"error": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(SyncRunOutput(run_snapshot(run)).data, status=status.HTTP_202_ACCEPTED)


class CampaignSyncListView(APIView):
    @extend_schema(operation_id="campaign_dhis2_syncs", responses=SyncRunList,
                   summary="A campaign's DHIS2 sync history, newest first")
    def get(self, request, pk):
        campaign = api_campaign_for(request, pk, Need.READ)
        runs = campaign.dhis2_syncs.select_related("created_by")[:HISTORY_LENGTH]
        return Response({"data": [SyncRunOutput(run_snapshot(run)).data for run in runs]})


def _run(request, pk, need):
    return object_for(access_for_request(request), Dhis2SyncRun.objects.select_related(
        "created_by"), need, pk=pk)


class SyncRunView(APIView):
    @extend_schema(operation_id="dhis2_sync_get", responses=SyncRunOutput,
                   summary="A DHIS2 sync run: status and counts")
    def get(self, request, pk):
        return Response(SyncRunOutput(run_snapshot(_run(request, pk, Need.READ))).data)


class SyncRunErrorsView(APIView):
    @extend_schema(operation_id="dhis2_sync_errors",
                   responses={(200, "text/csv"): OpenApiTypes.BINARY},
                   summary="The tracked entities a sync skipped, and why (CSV)")
    def get(self, request, pk):
        run = _run(request, pk, Need.PEOPLE)  # skipped entities name people
        response = StreamingHttpResponse(sync.skipped_csv_lines(run=run),
                                         content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="dhis2-sync-{run.pk}-skipped.csv"'
        return response
