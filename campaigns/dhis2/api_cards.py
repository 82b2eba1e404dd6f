"""The endpoints a DHIS2 app calls: send one card now, and Google Wallet save links by
enrollment, through distribution's services (distribution/direct.py).

POST /api/dhis2/send-card, GET /api/dhis2/google-wallet/<enrollment_id>,
POST /api/dhis2/google-wallet/bulk.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from campaignid.outbound_http import TransportError
from campaigns.access import MAX_ID, Need, access_for_request, require
from campaigns.models import Beneficiary, Campaign
from cards.models import Card
from distribution import direct_send
from distribution.api.base import ERRORS, Conflict
from distribution.api.logs import MessageOutput
from distribution.integrations import IntegrationNotConfigured
from distribution.models import ChannelCode
from distribution.providers.adapter import ChannelError
from distribution.selectors import log_row

DHIS2_UID = r"^[A-Za-z][A-Za-z0-9]{10}$"
ENROLLMENT_ID = r"^[A-Za-z0-9_.:-]{1,64}$"


class ProviderUnavailable(APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = "The provider did not accept the request."
    default_code = "provider_error"


class SendCardInput(serializers.Serializer):
    enrollment_id = serializers.RegexField(
        ENROLLMENT_ID, required=False,
        help_text="The DHIS2 enrollment (a beneficiary's external id).")
    beneficiary_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    card_code = serializers.CharField(max_length=20, required=False)
    programme_uid = serializers.RegexField(
        DHIS2_UID, required=False, allow_blank=True,
        help_text="With enrollment_id: only campaigns linked to this DHIS2 program.")
    channel = serializers.ChoiceField(choices=ChannelCode.choices)
    phone_number = serializers.CharField(
        required=False, allow_blank=True, max_length=30,
        help_text="Send here instead of the beneficiary's number (E.164, or national).")
    message = serializers.CharField(
        required=False, allow_blank=False, max_length=1000,
        help_text="Text instead of the campaign's template; the same {variables} work.")
    send_now = serializers.BooleanField(
        required=False, default=False,
        help_text="Send at once even outside the sending window (SMS, WhatsApp); otherwise "
                  "such a send is queued for the window's opening (202, scheduled_for).")

    def validate(self, data):
        given = [k for k in ("enrollment_id", "beneficiary_id", "card_code") if data.get(k)]
        if len(given) != 1:
            raise ValidationError(
                {"enrollment_id": [_("Give exactly one of enrollment_id, beneficiary_id, "
                                     "card_code.")]})
        return data


class SendVerdict(serializers.Serializer):
    ok = serializers.BooleanField()
    kind = serializers.CharField(allow_null=True, help_text="Why it failed, when it did.")
    provider_message_id = serializers.CharField(allow_blank=True)
    error_code = serializers.CharField(allow_blank=True)
    detail = serializers.CharField(allow_blank=True)
    link = serializers.CharField(allow_blank=True, help_text="Wallet: the pass's save link.")


class SendCardOutput(serializers.Serializer):
    message = MessageOutput()
    result = SendVerdict()


class SendCardScheduledOutput(serializers.Serializer):
    message = MessageOutput(help_text="The queued message (status pending)")
    scheduled_for = serializers.DateTimeField(
        help_text="When it will be sent: the opening of the sending window (the campaign's "
                  "latest dispatch's, else 07:00-21:00 every day, in the program's time zone)")


class WalletLinkOutput(serializers.Serializer):
    enrollment_id = serializers.CharField()
    card_code = serializers.CharField()
    wallet_url = serializers.CharField(help_text="https://pay.google.com/gp/v/save/<jwt>")
    jwt_token = serializers.CharField()
    valid_until = serializers.DateField(allow_null=True)


class WalletBulkInput(serializers.Serializer):
    enrollment_ids = serializers.ListField(child=serializers.RegexField(ENROLLMENT_ID),
                                           allow_empty=False, max_length=10_000)
    programme_uid = serializers.RegexField(DHIS2_UID, required=False, allow_blank=True)

    def validate_enrollment_ids(self, value):
        if len(value) > direct_send.MAX_WALLET_BULK:
            raise ValidationError(_("At most %(max)s enrollments per request.")
                                  % {"max": direct_send.MAX_WALLET_BULK})
        return value


class WalletBulkError(serializers.Serializer):
    enrollment_id = serializers.CharField()
    error = serializers.CharField()


class WalletBulkOutput(serializers.Serializer):
    batch_id = serializers.CharField()
    total = serializers.IntegerField(help_text="Links made")
    wallet_links = WalletLinkOutput(many=True)
    errors = WalletBulkError(many=True, help_text="Enrollments without a beneficiary or card")


class SendCardView(APIView):
    @extend_schema(
        operation_id="dhis2_send_card", request=SendCardInput,
        parameters=[OpenApiParameter(
            "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
            description="Repeat a request with the same key: the first answer comes back and "
                        "nothing is sent twice.")],
        responses={201: SendCardOutput,
                   202: OpenApiResponse(SendCardScheduledOutput,
                                        description="Outside the sending window: queued for "
                                                    "its opening (send_now sends at once)"),
                   400: ERRORS[400], 403: ERRORS[403],
                   404: OpenApiResponse(description="Unknown enrollment, beneficiary or card"),
                   409: OpenApiResponse(description="No card, opted out, no consent, or the "
                                                    "channel is not set up"),
                   502: OpenApiResponse(SendCardOutput, description="The provider refused "
                                                                   "or did not answer")},
    )
    def post(self, request):
        """Send a beneficiary's card over WhatsApp, SMS or Google Wallet: now, or, for SMS
        and WhatsApp outside the sending window, at its opening (202) unless send_now."""
        access = access_for_request(request)
        data = SendCardInput(data=request.data)
        data.is_valid(raise_exception=True)
        beneficiary, card = _target(access.program, data.validated_data)
        require(access, Need.WRITE, beneficiary.campaign)
        try:
            message, result = direct_send.card_send(
                beneficiary=beneficiary, channel=data.validated_data["channel"], card=card,
                phone_number=data.validated_data.get("phone_number", ""),
                text=data.validated_data.get("message"),
                client_key=request.headers.get("Idempotency-Key", "").strip()[:80],
                send_now=data.validated_data["send_now"],
            )
        except DjangoValidationError as exc:
            raise ValidationError(serializers.as_serializer_error(exc)) from None
        except (direct_send.SendRefused, direct_send.SendInProgress,
                IntegrationNotConfigured) as exc:
            raise Conflict(str(exc)) from None
        if isinstance(result, direct_send.Scheduled):
            return Response(SendCardScheduledOutput({
                "message": log_row(message), "scheduled_for": result.at}).data,
                status=status.HTTP_202_ACCEPTED)
        body = SendCardOutput({"message": log_row(message), "result": {
            "ok": result.ok, "kind": result.kind.value if result.kind else None,
            "provider_message_id": result.provider_message_id, "error_code": result.error_code,
            "detail": result.detail, "link": result.link,
        }}).data
        return Response(body, status=status.HTTP_201_CREATED if result.ok
                        else status.HTTP_502_BAD_GATEWAY)


class WalletLinkView(APIView):
    @extend_schema(
        operation_id="dhis2_google_wallet_link",
        parameters=[OpenApiParameter("enrollment_id", OpenApiTypes.STR, OpenApiParameter.PATH,
                                     pattern=ENROLLMENT_ID),
                    OpenApiParameter("programme_uid", OpenApiTypes.STR, required=False)],
        responses={200: WalletLinkOutput, 403: ERRORS[403],
                   404: OpenApiResponse(description="Unknown enrollment"),
                   409: OpenApiResponse(description="No valid card, or Wallet is not set up"),
                   502: OpenApiResponse(description="Google refused or did not answer")},
    )
    def get(self, request, enrollment_id):
        """A Google Wallet "save" link for the enrollment's current card."""
        access = access_for_request(request)
        campaigns = _fed_by(access.program, request.query_params.get("programme_uid", ""))
        found = direct_send.beneficiaries_for_enrollment(
            program=access.program, enrollment_id=enrollment_id, campaigns=campaigns)
        if not found:
            raise NotFound(_("No beneficiary with enrollment id %(id)s in this program.")
                           % {"id": enrollment_id})
        require(access, Need.WRITE, found[0].campaign)
        try:
            _b, card, link = direct_send.wallet_link(program=access.program,
                                                     enrollment_id=enrollment_id,
                                                     campaigns=campaigns)
        except (direct_send.SendRefused, IntegrationNotConfigured) as exc:
            raise Conflict(str(exc)) from None
        except (ChannelError, TransportError) as exc:
            raise ProviderUnavailable(_provider_text(exc)) from None
        data = direct_send.wallet_link_data(enrollment_id, card, link)
        return Response(WalletLinkOutput(data).data)


class WalletBulkView(APIView):
    @extend_schema(
        operation_id="dhis2_google_wallet_bulk", request=WalletBulkInput,
        responses={200: WalletBulkOutput, 400: ERRORS[400],
                   409: OpenApiResponse(description="Wallet is not set up"),
                   502: OpenApiResponse(description="Google refused or did not answer")},
    )
    def post(self, request):
        """Save links for up to 100 enrollments (more: 400), one per person."""
        access = access_for_request(request)
        data = WalletBulkInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            body = direct_send.wallet_links(
                program=access.program, enrollment_ids=data.validated_data["enrollment_ids"],
                campaigns=_fed_by(access.program, data.validated_data.get("programme_uid", "")),
                allow_sensitive=access.can_view_sensitive,
            )
        except IntegrationNotConfigured as exc:
            raise Conflict(str(exc)) from None
        except (ChannelError, TransportError) as exc:
            raise ProviderUnavailable(_provider_text(exc)) from None
        return Response(WalletBulkOutput(body).data)


def _target(program, data):
    """(beneficiary, card or None) named by enrollment_id, beneficiary_id or card_code."""
    if data.get("card_code"):
        card = (Card.objects.for_program(program).select_related("beneficiary__campaign__program",
                                                                  "job")
                .filter(code=data["card_code"].strip().upper(),
                        campaign__deleted_at__isnull=True).first())
        if card is None:
            raise NotFound(_("No card %(code)s in this program.") % {"code": data["card_code"]})
        return card.beneficiary, card
    if data.get("beneficiary_id"):
        beneficiary = (Beneficiary.objects.for_program(program)
                       .select_related("campaign__program")
                       .filter(pk=data["beneficiary_id"], campaign__deleted_at__isnull=True)
                       .first())
        if beneficiary is None:
            raise NotFound(_("No beneficiary %(id)s in this program.")
                           % {"id": data["beneficiary_id"]})
        return beneficiary, None
    found = direct_send.beneficiaries_for_enrollment(
        program=program, enrollment_id=data["enrollment_id"],
        campaigns=_fed_by(program, data.get("programme_uid", "")))
    if not found:
        raise NotFound(_("No beneficiary with enrollment id %(id)s in this program.")
                       % {"id": data["enrollment_id"]})
    return found[0], None


def _fed_by(program, program_uid):
    """The program's campaigns a DHIS2 tracker program feeds (all of them without one).
    `programme_uid` is the endpoints' wire name; inside, DHIS2's own spelling."""
    if not program_uid:
        return None
    return Campaign.objects.for_program(program).filter(dhis2_link__program_uid=program_uid)


def _provider_text(exc):
    result = getattr(exc, "result", None)
    return f"{result.error_code}: {result.detail}" if result else str(exc)
