"""REST API of a program's provider integrations (WhatsApp, Orange SMS, Google Wallet).

Members read the settings with secrets masked; only program admins change them; admins and
operators may press "Test", which sends one real message through the provider.
"""

from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.access import access_for_request
from campaigns.permissions import IsProgramAdmin, IsProgramMember
from distribution import integrations
from distribution.models import ChannelCode

CHANNEL_PARAMETER = OpenApiParameter(
    "channel", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(ChannelCode.values)
)


class IntegrationOutput(serializers.Serializer):
    channel = serializers.ChoiceField(choices=ChannelCode.choices)
    enabled = serializers.BooleanField()
    configured = serializers.BooleanField(help_text="Settings have been saved.")
    config = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        help_text="Every setting of the channel; secrets masked like `••••abcd`.",
    )
    updated_at = serializers.DateTimeField(allow_null=True)


class IntegrationInput(serializers.Serializer):
    enabled = serializers.BooleanField(required=False, help_text="Omitted: unchanged.")
    config = serializers.DictField(
        child=serializers.CharField(allow_blank=True, allow_null=True),
        help_text=(
            "WhatsApp: phone_number_id, access_token, app_secret, verify_token, template_name, "
            "template_language. SMS: client_id, client_secret, sender_address (tel:+221...), "
            "sender_name (optional, ≤ 11 letters/digits). Wallet: issuer_id, "
            "service_account_email, private_key (PEM), class_suffix. A secret left out (or "
            "sent back masked) keeps its stored value."
        ),
    )


class IntegrationTestInput(serializers.Serializer):
    phone_number = serializers.CharField(
        required=False, allow_blank=True,
        help_text="Who receives the test (WhatsApp and SMS); ignored for Wallet.",
    )


class IntegrationTestOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    kind = serializers.ChoiceField(
        choices=["retryable", "throttled", "fallback", "permanent", "account"], allow_null=True,
        help_text="Why it failed, when it did.",
    )
    provider_message_id = serializers.CharField(allow_blank=True)
    error_code = serializers.CharField(allow_blank=True)
    detail = serializers.CharField(allow_blank=True)
    retry_after = serializers.FloatField(allow_null=True)
    link = serializers.CharField(allow_blank=True, help_text="Wallet: the test pass's save link.")


class IntegrationView(APIView):
    def get_permissions(self):
        if self.request.method == "PUT":
            return [IsProgramAdmin()]
        return [IsProgramMember()]

    @extend_schema(operation_id="integration_get", parameters=[CHANNEL_PARAMETER],
                   responses=IntegrationOutput, summary="A provider's settings (secrets masked)")
    def get(self, request, channel):
        access = access_for_request(request)
        view = integrations.integration_view(program=access.program, channel=channel)
        return Response(IntegrationOutput(view).data)

    @extend_schema(
        operation_id="integration_update", parameters=[CHANNEL_PARAMETER],
        request=IntegrationInput,
        responses={200: IntegrationOutput,
                   400: OpenApiResponse(description="`fields` names each bad setting"),
                   403: OpenApiResponse(description="Only a program admin may change them")},
        summary="Save a provider's settings",
    )
    def put(self, request, channel):
        access = access_for_request(request)
        data = IntegrationInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            integrations.integration_save(
                program=access.program, channel=channel,
                config=data.validated_data["config"],
                enabled=data.validated_data.get("enabled"),
            )
        except ValidationError as exc:
            return _invalid(exc)
        view = integrations.integration_view(program=access.program, channel=channel)
        return Response(IntegrationOutput(view).data)


class IntegrationTestView(APIView):
    @extend_schema(
        operation_id="integration_test", parameters=[CHANNEL_PARAMETER],
        request=IntegrationTestInput,
        responses={200: IntegrationTestOutput,
                   400: OpenApiResponse(description="Bad phone number"),
                   409: OpenApiResponse(description="The channel has no saved settings")},
        summary="Send one test message and answer with the provider's verdict",
    )
    def post(self, request, channel):
        access = access_for_request(request)
        data = IntegrationTestInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            result = integrations.integration_test(
                program=access.program, channel=channel,
                phone_number=data.validated_data.get("phone_number", ""),
            )
        except ValidationError as exc:
            return _invalid(exc)
        except integrations.IntegrationNotConfigured as exc:
            return Response({"error": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(IntegrationTestOutput(result.as_dict()).data)


def _invalid(exc):
    fields = exc.message_dict
    name, messages = next(iter(fields.items()))
    return Response({"error": f"{name}: {messages[0]}", "fields": fields},
                    status=status.HTTP_400_BAD_REQUEST)
