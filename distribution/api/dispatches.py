"""REST API of dispatch runs: create (draft), start / pause / resume / stop, read counters."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.access import MAX_ID, Need, access_for_request, api_campaign_for, object_for
from distribution.api.base import (
    ERRORS,
    ID_PARAMETER,
    Conflict,
    service_call,
)
from distribution.dispatch import progress, runs
from distribution.dispatch.send_window import WEEKDAY_NAMES, program_zone
from distribution.models import ChannelCode, Dispatch
from distribution.providers.registry import CHANNEL_PATTERN

TIME_FORMATS = ["%H:%M", "%H:%M:%S"]
ACTIONS = {
    "start": runs.dispatch_start,
    "pause": runs.dispatch_pause,
    "resume": runs.dispatch_resume,
    "stop": runs.dispatch_stop,
}


@extend_schema_field({"type": "string", "enum": list(WEEKDAY_NAMES)})
class WeekdayField(serializers.Field):
    """A weekday as its three-letter English name (`mon` … `sun`) or 0 (Monday) … 6."""

    default_error_messages = {"invalid": "Use mon, tue, wed, thu, fri, sat, sun (or 0-6)."}

    def to_internal_value(self, data):
        text = str(data).strip().lower()[:3]
        if text in WEEKDAY_NAMES:
            return WEEKDAY_NAMES.index(text)
        if text.isdigit() and 0 <= int(text) <= 6:
            return int(text)
        self.fail("invalid")

    def to_representation(self, value):
        return WEEKDAY_NAMES[value]


@extend_schema_field({"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$",
                      "example": "07:00"})
class HourMinuteField(serializers.TimeField):
    """HH:MM (or HH:MM:SS) in, HH:MM out, documented as such: OpenAPI's `format: time` is
    RFC 3339's time with seconds and a UTC offset, which this is not."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", input_formats=TIME_FORMATS, **kwargs)


@extend_schema_field({"type": "string", "pattern": f"^({CHANNEL_PATTERN})$"})
class ChannelChoiceField(serializers.ChoiceField):
    """A channel code, documented as a pattern: as an enum the schema would name the same
    choice set after each field (ChannelEnum, FirstChannelEnum...)."""

    def __init__(self, **kwargs):
        super().__init__(choices=ChannelCode.choices, **kwargs)


class DispatchCreateInput(serializers.Serializer):
    first_channel = ChannelChoiceField()
    fallback_channel = ChannelChoiceField(
        required=False, allow_blank=True,
        help_text="Tried after `fallback_after_attempts` failures (or when the first channel "
                  "cannot reach the person). Empty: none.",
    )
    fallback_after_attempts = serializers.IntegerField(min_value=1, max_value=10, required=False,
                                                       help_text="Default 2.")
    max_attempts = serializers.IntegerField(min_value=1, max_value=10, required=False,
                                            help_text="Attempts per person over all channels "
                                                      "(throttling does not count). Default 3.")
    retry_delays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=7 * 86400), max_length=10,
        required=False, help_text="Seconds before the 1st, 2nd… retry (the last repeats). "
                                  "Default [60, 300, 900].",
    )
    window_start = HourMinuteField(required=False,
                                   help_text="HH:MM in the program's time zone; 07:00.")
    window_end = HourMinuteField(
        required=False,
        help_text="HH:MM, exclusive; 00:00 is midnight (00:00-00:00: the whole day); "
                  "default 21:00.")
    weekdays = serializers.ListField(child=WeekdayField(), min_length=1, max_length=7,
                                     required=False, help_text="Default mon…fri.")
    rate_limit_per_second = serializers.IntegerField(
        min_value=1, max_value=runs.MAX_RATE, required=False,
        help_text="Messages a second per channel, over all workers; never exceeded. Default 20.",
    )
    beneficiary_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), allow_empty=False,
        max_length=100_000,
        required=False, help_text="Only these beneficiaries of the campaign (default: all).",
    )


class DispatchOutput(serializers.Serializer):
    id = serializers.IntegerField()
    campaign_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Dispatch.Status.choices)
    first_channel = serializers.CharField()
    fallback_channel = serializers.CharField()
    fallback_after_attempts = serializers.IntegerField()
    max_attempts = serializers.IntegerField()
    retry_delays = serializers.ListField(child=serializers.IntegerField())
    window_start = HourMinuteField()
    window_end = HourMinuteField()
    weekdays = serializers.ListField(child=WeekdayField())
    timezone = serializers.CharField(help_text="The program's, in which the window is read.")
    rate_limit_per_second = serializers.IntegerField()
    targets_selected = serializers.BooleanField(help_text="Only chosen beneficiaries.")
    pause_reason = serializers.CharField(help_text="Why the system paused the run, if it did.")
    waiting_until = serializers.DateTimeField(
        allow_null=True, help_text="The run waits for its send window to open at this time.")
    finish_reason = serializers.CharField(help_text="completed or stopped, once done.")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    total = serializers.IntegerField()
    contacted = serializers.IntegerField(help_text="People tried at least once.")
    remaining = serializers.IntegerField(help_text="Not yet reached nor given up.")
    to_retry = serializers.IntegerField(help_text="Tried, waiting for another attempt.")
    failed = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    skipped = serializers.IntegerField(help_text="Opted out, no consent, no phone or no card.")
    skipped_reasons = serializers.DictField(child=serializers.IntegerField())
    progress = serializers.IntegerField(help_text="0-100")


def dispatch_data(dispatch):
    counters = progress.dispatch_counters(dispatch)
    return DispatchOutput({
        **{field: getattr(dispatch, field) for field in (
            "id", "campaign_id", "status", "first_channel", "fallback_channel",
            "fallback_after_attempts", "max_attempts", "retry_delays", "window_start",
            "window_end", "weekdays", "rate_limit_per_second", "pause_reason", "waiting_until",
            "finish_reason", "created_at", "started_at", "finished_at",
        )},
        "timezone": program_zone(dispatch.campaign.program).key,
        "targets_selected": dispatch.beneficiary_ids is not None,
        **counters,
    }).data


class CampaignDispatchesView(APIView):
    @extend_schema(operation_id="campaign_dispatches_list", parameters=[ID_PARAMETER],
                   responses={200: DispatchOutput(many=True), 404: ERRORS[404]})
    def get(self, request, pk):
        """The campaign's dispatch runs, newest first (at most 50)."""
        campaign = api_campaign_for(request, pk, Need.READ)
        recent = campaign.dispatches.select_related("campaign__program")[:50]
        return Response([dispatch_data(d) for d in recent])

    @extend_schema(operation_id="campaign_dispatches_create", parameters=[ID_PARAMETER],
                   request=DispatchCreateInput,
                   responses={201: DispatchOutput, 400: ERRORS[400], 403: ERRORS[403],
                              404: ERRORS[404]})
    def post(self, request, pk):
        """A draft run of the campaign's cards; `POST /api/dispatches/<id>/start` sends it."""
        campaign = api_campaign_for(request, pk, Need.WRITE)
        data = DispatchCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        dispatch = service_call(
            runs.dispatch_create, campaign=campaign,
            user=access_for_request(request).user, **data.validated_data,
        )
        return Response(dispatch_data(dispatch), status=status.HTTP_201_CREATED)


class DispatchDetailView(APIView):
    @extend_schema(operation_id="dispatch_retrieve", parameters=[ID_PARAMETER],
                   responses={200: DispatchOutput, 404: ERRORS[404]})
    def get(self, request, pk):
        """A run with its counters (the same as its WebSocket `/ws/dispatches/<id>`)."""
        return Response(dispatch_data(_dispatch(request, pk, Need.READ)))


class DispatchActionView(APIView):
    @extend_schema(
        operation_id="dispatch_action", request=None,
        parameters=[ID_PARAMETER, OpenApiParameter(
            "action", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(ACTIONS),
            description="start (draft), pause (running), resume (paused), stop (any but done)",
        )],
        responses={200: DispatchOutput, 403: ERRORS[403], 404: ERRORS[404], 409: ERRORS[409]},
    )
    def post(self, request, pk, action):
        """Start, pause, resume or stop a run."""
        dispatch = _dispatch(request, pk, Need.WRITE)
        try:
            dispatch = ACTIONS[action](dispatch=dispatch)
        except runs.DispatchConflict as exc:
            raise Conflict(str(exc)) from None
        return Response(dispatch_data(dispatch))


def _dispatch(request, pk, need):
    return object_for(access_for_request(request),
                      Dispatch.objects.select_related("campaign__program"), need, pk=pk)
