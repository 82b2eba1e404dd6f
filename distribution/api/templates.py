"""A campaign's message templates (per language) and the SMS cost preview of a text.

GET /api/campaigns/<id>/message-templates, PUT/DELETE .../message-templates/<language>,
POST .../message-templates/preview.
"""

from decimal import Decimal

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.access import Need, api_campaign_for
from campaigns.models import Language
from cards.codes import CODE_RANDOM_LENGTH
from cards.models import Card
from cards.qr import card_link
from distribution import message_templates
from distribution.api.base import ERRORS, ID_PARAMETER, service_call
from distribution.message_templates import VARIABLES, render
from distribution.providers.orange_sms.segments import sms_segments

LANGUAGE_PARAMETER = OpenApiParameter("language", OpenApiTypes.STR, OpenApiParameter.PATH,
                                      enum=list(Language.values))
# Shown in the preview: a long-ish name; the card code and URL are built per campaign.
SAMPLE = {"first_name": "Aminata", "last_name": "Ndiaye", "issue_date": "17/05/2026"}
# A real token's length: version 2, a 17-byte name (README, "Worked example, version 2").
SAMPLE_TOKEN_LENGTH = 227


def sample_card(campaign):
    """A card code of this campaign and its URLs on this server, as a message would carry
    them: the campaign's latest card when it has one (its real code and token), else a code
    of the real length under the campaign's prefix and a token of a real token's length."""
    card = (Card.objects.filter(campaign=campaign, revoked_at__isnull=True)
            .only("code", "token").order_by("-id").first())
    if card is not None:
        code, token = card.code, card.token
    else:
        code = f"{campaign.prefix}-" + "9XQ7LM2A"[:CODE_RANDOM_LENGTH].ljust(
            CODE_RANDOM_LENGTH, "A")
        token = "0" * SAMPLE_TOKEN_LENGTH
    return {"card_code": code, "card_link": card_link(code),
            "verification_url": f"{card_link(code)}#{token}"}


class TemplateOutput(serializers.Serializer):
    language = serializers.ChoiceField(choices=Language.choices)
    body = serializers.CharField()
    is_default = serializers.BooleanField(help_text="The built-in text (nothing saved)")
    updated_at = serializers.DateTimeField(allow_null=True)


class TemplatesOutput(serializers.Serializer):
    variables = serializers.ListField(child=serializers.CharField())
    templates = TemplateOutput(many=True)


class TemplateInput(serializers.Serializer):
    body = serializers.CharField(
        max_length=message_templates.MAX_LENGTH, trim_whitespace=False,
        help_text="Text with {first_name}, {last_name}, {card_code}, {programme_name}, "
                  "{issue_date}, {card_link}, {verification_url}; any other {name} is refused.")


class PreviewInput(serializers.Serializer):
    body = serializers.CharField(max_length=message_templates.MAX_LENGTH, trim_whitespace=False)


class PreviewOutput(serializers.Serializer):
    sample = serializers.CharField(help_text="The text for a sample person")
    encoding = serializers.CharField(help_text="GSM-7 or UCS-2")
    characters = serializers.IntegerField()
    segments = serializers.IntegerField(help_text="SMS segments for the sample")
    recipients = serializers.IntegerField(help_text="Beneficiaries with a phone and SMS consent")
    segments_total = serializers.IntegerField(help_text="For every such beneficiary")
    price_per_segment = serializers.DecimalField(max_digits=10, decimal_places=2)
    cost = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()


class TemplatesView(APIView):
    @extend_schema(operation_id="campaign_message_templates", parameters=[ID_PARAMETER],
                   responses={200: TemplatesOutput, 404: ERRORS[404]})
    def get(self, request, pk):
        """The text of the campaign's messages in each language (saved or default)."""
        campaign = api_campaign_for(request, pk, Need.READ)
        return Response(TemplatesOutput({
            "variables": list(VARIABLES),
            "templates": message_templates.templates_for(campaign=campaign),
        }).data)


class TemplateView(APIView):
    @extend_schema(operation_id="campaign_message_template_update",
                   parameters=[ID_PARAMETER, LANGUAGE_PARAMETER], request=TemplateInput,
                   responses={200: TemplateOutput, 400: ERRORS[400], 404: ERRORS[404]})
    def put(self, request, pk, language):
        """Save the campaign's text for a language; an unknown {variable} is refused."""
        campaign = api_campaign_for(request, pk, Need.WRITE)
        data = TemplateInput(data=request.data)
        data.is_valid(raise_exception=True)
        template = service_call(message_templates.template_save, campaign=campaign,
                                language=language, body=data.validated_data["body"])
        return Response(TemplateOutput({"language": template.language, "body": template.body,
                                        "is_default": False,
                                        "updated_at": template.updated_at}).data)

    @extend_schema(operation_id="campaign_message_template_reset",
                   parameters=[ID_PARAMETER, LANGUAGE_PARAMETER],
                   responses={204: None, 404: ERRORS[404]})
    def delete(self, request, pk, language):
        """Back to the built-in text for that language."""
        campaign = api_campaign_for(request, pk, Need.WRITE)
        message_templates.template_reset(campaign=campaign, language=language)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TemplatePreviewView(APIView):
    @extend_schema(operation_id="campaign_message_template_preview", parameters=[ID_PARAMETER],
                   request=PreviewInput,
                   responses={200: PreviewOutput, 400: ERRORS[400], 404: ERRORS[404]})
    def post(self, request, pk):
        """SMS segments and cost of a text for this campaign's SMS recipients, before saving
        or sending it."""
        campaign = api_campaign_for(request, pk, Need.PEOPLE)  # counts every recipient's text
        data = PreviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data["body"]
        service_call(message_templates.validate_template, body=body)
        return Response(PreviewOutput(sms_preview(campaign=campaign, body=body)).data)


def sms_preview(*, campaign, body):
    """The sample text and its SMS count, and the total for every SMS recipient (counted with
    each person's own name: one accented name can turn a message into UCS-2)."""
    variables = {**SAMPLE, **sample_card(campaign),
                 "programme_name": message_templates.programme_name(
        campaign=campaign, program=campaign.program)}
    sample = render(body, variables)
    count = sms_segments(sample)
    people = campaign.beneficiaries.filter(consent_sms=True, opted_out_at__isnull=True).exclude(
        phone="").values_list("first_name", "last_name")
    total = recipients = 0
    for first_name, last_name in people.iterator(chunk_size=2000):
        recipients += 1
        total += sms_segments(render(body, {**variables, "first_name": first_name,
                                            "last_name": last_name})).segments
    price = Decimal(str(getattr(settings, "SMS_PRICE_PER_SEGMENT", "25")))
    return {
        "sample": sample, "encoding": count.encoding, "characters": len(sample),
        "segments": count.segments, "recipients": recipients, "segments_total": total,
        "price_per_segment": price, "cost": price * total,
        "currency": getattr(settings, "SMS_PRICE_CURRENCY", "XOF"),
    }
