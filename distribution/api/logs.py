"""GET /api/distribution/logs (+ .csv): the send log, filtered and paginated, scoped to the
caller's program. Rows hold ids, the masked number and the provider's verdict, never a name."""

import contextlib

from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.access import MAX_ID, MAX_OFFSET, Need, access_for_request, campaign_for
from campaigns.csv_export import csv_response
from distribution import selectors
from distribution.api.base import ERRORS
from distribution.models import ChannelCode, Message


class StatusListField(serializers.CharField):
    """One status or several separated by commas (`sent,delivered`)."""

    def to_internal_value(self, data):
        values = [v.strip() for v in super().to_internal_value(data).split(",") if v.strip()]
        bad = [v for v in values if v not in Message.Status.values]
        if bad:
            raise serializers.ValidationError(
                f"Unknown status {bad[0]!r}; use {', '.join(Message.Status.values)}."
            )
        return values


class LogQuery(serializers.Serializer):
    channel = serializers.ChoiceField(choices=ChannelCode.choices, required=False)
    status = StatusListField(required=False, help_text="e.g. `failed` or `sent,delivered,read`")
    campaign = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    dispatch = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    beneficiary = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False,
                                           help_text="A beneficiary id")
    external_id = serializers.CharField(
        max_length=64, required=False, allow_blank=True,
        help_text="The beneficiary's enrollment (external) id, exact match")
    date_from = serializers.DateField(required=False, help_text="YYYY-MM-DD, program time zone")
    date_to = serializers.DateField(required=False, help_text="YYYY-MM-DD, included")
    limit = serializers.IntegerField(min_value=1, max_value=500, default=50)
    offset = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET, default=0)

    def validate(self, data):
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise serializers.ValidationError({"date_to": "Must not be before date_from."})
        return data


class MessageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    campaign_id = serializers.IntegerField()
    dispatch_id = serializers.IntegerField(allow_null=True)
    beneficiary_id = serializers.IntegerField()
    external_id = serializers.CharField(
        help_text="The beneficiary's enrollment (external) id; empty when it has none.")
    card_code = serializers.CharField()
    channel = serializers.ChoiceField(choices=ChannelCode.choices)
    wallet_pass = serializers.BooleanField(
        help_text="True when the message carried the card's Google Wallet link (a dispatch's "
                  "Wallet step; `channel` is then the carrier, sms or whatsapp).")
    channel_label = serializers.CharField(help_text="The channel in the user's language.")
    attempt = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Message.Status.choices)
    status_label = serializers.CharField(help_text="The status in the user's language.")
    recipient = serializers.CharField(help_text="Masked, e.g. +22177***4567")
    provider_message_id = serializers.CharField()
    error_code = serializers.CharField()
    error_label = serializers.CharField(
        help_text="The error code in the user's language (the code itself when unknown)."
    )
    error_detail = serializers.CharField()
    sent_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    read_at = serializers.DateTimeField(allow_null=True)
    failed_at = serializers.DateTimeField(allow_null=True)


class LogMeta(serializers.Serializer):
    total = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()
    dispatches_running = serializers.IntegerField(
        help_text="How many dispatches of the program are running now (a page showing the "
                  "log refreshes it while this is above 0).")


class LogPage(serializers.Serializer):
    data = MessageOutput(many=True)
    meta = LogMeta()


class CsvRenderer(BaseRenderer):
    """Lets a client ask for `Accept: text/csv`; the view writes the CSV itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, (str, bytes)) else JSONRenderer().render(data)


def _filters(request):
    query = LogQuery(data=request.query_params)
    query.is_valid(raise_exception=True)
    filters = dict(query.validated_data)
    access = access_for_request(request)
    if filters.get("campaign"):
        # A filter, not a lookup: another program's campaign simply matches no row. Deleted
        # campaigns' logs stay readable: a log is a record of what was sent.
        with contextlib.suppress(Http404):
            campaign_for(access, filters["campaign"], Need.PEOPLE, deleted=True)
    return access, filters


class MessageLogView(APIView):
    @extend_schema(operation_id="distribution_logs", parameters=[LogQuery],
                   responses={200: LogPage, 400: ERRORS[400], 403: ERRORS[403]})
    def get(self, request):
        """Every message attempt of the program, newest first."""
        access, filters = _filters(request)
        rows = selectors.message_log(access=access, filters=filters)
        limit, offset = filters["limit"], filters["offset"]
        page = [selectors.log_row(m) for m in rows[offset:offset + limit]]
        return Response(LogPage({
            "data": page, "meta": {
                "total": rows.count(), "limit": limit, "offset": offset,
                "dispatches_running": selectors.dispatches_running(program=access.program),
            },
        }).data)


class MessageLogCsvView(APIView):
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(operation_id="distribution_logs_csv", parameters=[LogQuery],
                   responses={(200, "text/csv"): OpenApiTypes.STR, 400: ERRORS[400],
                              403: ERRORS[403]})
    def get(self, request):
        """The same filtered log, every row (limit and offset ignored), as CSV."""
        access, filters = _filters(request)
        rows = selectors.message_log(access=access, filters=filters)
        table = (
            [row[column] for column in selectors.LOG_COLUMNS]
            for row in map(selectors.log_row, rows.iterator(chunk_size=1000))
        )
        filename = f"messages-{access.program.slug}-{timezone.localdate():%Y%m%d}.csv"
        return csv_response(selectors.LOG_COLUMNS, table, filename=filename)
