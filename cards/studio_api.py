"""Card Studio over the API: the templates, a campaign's card design, its validation and
its rendered preview."""

import logging
import re

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns import readiness, selectors, studio, studio_catalogue
from campaigns.access import Need, access_required, campaign_for
from campaigns.lifecycle import MAX_CARD_VALIDITY_MONTHS, CampaignConflict
from campaigns.serializers import CampaignDetailSerializer
from cards import previews, studio_services
from cards.rendering.errors import CardRenderError, PreviewBusy

logger = logging.getLogger(__name__)

PNG_RESPONSE = {(200, "image/png"): OpenApiTypes.BINARY}
CAMPAIGN_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)
PREVIEW_PARAMETERS = [
    OpenApiParameter("template_id", OpenApiTypes.STR,
                     description="Preview another template than the saved one."),
    OpenApiParameter("primary_colour", OpenApiTypes.STR,
                     description="#RRGGBB (the # may be left out)."),
    OpenApiParameter("accent_colour", OpenApiTypes.STR,
                     description="#RRGGBB (the # may be left out)."),
    OpenApiParameter("title", OpenApiTypes.STR,
                     description="Title printed on the card; empty for the template's own."),
    OpenApiParameter("show_fields", OpenApiTypes.STR,
                     description="Comma-separated keys of the optional fields to print; "
                     "empty for none."),
    OpenApiParameter("logo", OpenApiTypes.BOOL, description="Print the program's logo."),
    OpenApiParameter("card_validity_months", OpenApiTypes.STR,
                     description="Card validity in months for the sample's expiry date; "
                     "empty for cards that do not expire."),
]


class IgnoreClientContentNegotiation(BaseContentNegotiation):
    """An image endpoint answers PNG, or its errors in JSON, whatever `Accept` says (an <img>
    asks for image/webp first)."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class CardTemplateOptions(serializers.Serializer):
    """Documents `template_options`; campaigns.studio.template_options_validate checks them."""

    primary_colour = serializers.CharField(required=False, help_text="#RRGGBB")
    accent_colour = serializers.CharField(required=False, help_text="#RRGGBB")
    title = serializers.CharField(
        required=False, max_length=studio.TITLE_MAX_LENGTH,
        help_text="Replaces the template's title; empty for the template's own.",
    )
    show_fields = serializers.ListField(
        child=serializers.CharField(), required=False,
        help_text="Optional fields to print (see GET /api/templates); absent prints them all.",
    )
    logo = serializers.BooleanField(required=False, help_text="Print the program's logo.")
    values = serializers.DictField(
        child=serializers.CharField(max_length=studio.VALUE_MAX_LENGTH), required=False,
        help_text="Campaign-level values of the template's fields (e.g. {\"vaccine\": \"RR1\"}), "
        "printed for everyone without a value of their own in that import column.",
    )


@extend_schema_field(CardTemplateOptions)
class CardTemplateOptionsField(serializers.JSONField):
    pass


class CardDesignInput(serializers.Serializer):
    template_id = serializers.CharField(
        required=False, allow_blank=True, help_text="Unchanged when absent."
    )
    template_options = CardTemplateOptionsField()


class CardOptionalFieldOutput(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()


class CardDesignEffectiveOutput(serializers.Serializer):
    primary_colour = serializers.CharField()
    accent_colour = serializers.CharField()
    title = serializers.CharField()
    show_fields = serializers.ListField(child=serializers.CharField())
    logo = serializers.BooleanField()
    values = serializers.DictField(child=serializers.CharField())


class CardDesignOutput(serializers.Serializer):
    campaign = serializers.IntegerField()
    status = serializers.CharField()
    template_id = serializers.CharField()
    template_options = CardTemplateOptionsField(help_text="The options saved, as sent.")
    design = CardDesignEffectiveOutput(help_text="What the cards print: options over defaults.")
    optional_fields = CardOptionalFieldOutput(many=True)
    preview_url = serializers.CharField()


class CardTemplateFieldOutput(serializers.Serializer):
    key = serializers.CharField()
    labels = serializers.DictField(child=serializers.CharField())


class CardTemplateOutput(serializers.Serializer):
    id = serializers.CharField()
    type = serializers.CharField(help_text="The campaign type this template is made for.")
    titles = serializers.DictField(child=serializers.CharField())
    purpose = serializers.DictField(child=serializers.CharField())
    primary_colour = serializers.CharField()
    accent_colour = serializers.CharField()
    optional_fields = CardTemplateFieldOutput(many=True)
    preview_url = serializers.CharField()


class CardTemplateListOutput(serializers.Serializer):
    data = CardTemplateOutput(many=True)


def _design_campaign(request, pk, need=Need.READ):
    """A design and its sample preview name nobody: reading them is the campaign's record."""
    return campaign_for(access_required(request), pk, need)


def _design_data(campaign):
    template_id = studio.template_for_campaign(campaign)
    design = studio.card_design(
        template_id=template_id, language=campaign.language, options=campaign.template_options
    )
    return {
        "campaign": campaign.pk,
        "status": campaign.status,
        "template_id": template_id,
        "template_options": campaign.template_options or {},
        "design": {
            "primary_colour": design.primary_colour,
            "accent_colour": design.accent_colour,
            "title": design.title,
            "show_fields": list(design.show_fields),
            "logo": design.logo,
            "values": design.values,
        },
        "optional_fields": [
            {"key": key, "label": label}
            for key, label in studio.optional_field_choices(template_id, design.language)
        ],
        "preview_url": previews.campaign_preview_url(campaign),
    }


def _studio_errors(exc, *, nest_options):
    """A 400 naming each bad option; under `template_options` when the body nested them."""
    fields = {}
    for key, messages in exc.message_dict.items():
        if nest_options and key not in ("template_id", "template_options", "design"):
            fields.setdefault("template_options", {})[key] = messages
        else:
            fields[key] = messages
    first_key, first = next(iter(fields.items()))
    if isinstance(first, dict):
        option, messages = next(iter(first.items()))
        first_key, first = f"{first_key}.{option}", messages
    return Response(
        {"error": f"{first_key}: {first[0]}", "fields": fields}, status=status.HTTP_400_BAD_REQUEST
    )


def _conflict(exc):
    return Response({"error": str(exc)}, status=status.HTTP_409_CONFLICT)


def _asked_validity(value):
    """The preview's card validity: empty for none, else whole months within the bounds."""
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= MAX_CARD_VALIDITY_MONTHS:
        raise ValidationError({"card_validity_months": [
            _("Between 1 and %(max)s months, or empty for cards that do not expire.")
            % {"max": MAX_CARD_VALIDITY_MONTHS}
        ]})
    return int(value)


def _asked_design(campaign, query):
    """(template id, options): the saved design with what the query string changes."""
    saved_template = studio.template_for_campaign(campaign)
    template_id = query.get("template_id", "").strip() or saved_template
    options = dict(campaign.template_options or {})
    if template_id != saved_template:
        # Another template's keys; its own are the default.
        options.pop("show_fields", None)
        options.pop("values", None)
    if any(name.startswith(studio.VALUE_PARAM_PREFIX) for name in query):
        # The design page sends every value box: the query replaces the saved values.
        options["values"] = {
            name.removeprefix(studio.VALUE_PARAM_PREFIX): value
            for name, value in query.items()
            if name.startswith(studio.VALUE_PARAM_PREFIX) and value.strip()
        }
    for name in ("primary_colour", "accent_colour"):
        if name in query:
            value = query[name].strip()
            if re.fullmatch(r"[0-9A-Fa-f]{6}|[0-9A-Fa-f]{3}", value):
                value = "#" + value  # "#" in a query string must be escaped; often it is not
            options[name] = value
    if "title" in query:
        options["title"] = query["title"]
    if "show_fields" in query:
        options["show_fields"] = [
            key.strip() for key in query["show_fields"].split(",") if key.strip()
        ]
    if "logo" in query:
        value = query["logo"].strip().lower()
        if value not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
            raise ValidationError({"logo": [_("logo must be true or false.")]})
        options["logo"] = value in ("true", "1", "yes", "on")
    for name in ("primary_colour", "accent_colour", "title"):
        if options.get(name) == "":
            del options[name]  # empty: the template's default
    return template_id, options


class CampaignPreviewView(APIView):
    content_negotiation_class = IgnoreClientContentNegotiation

    @extend_schema(
        operation_id="campaigns_preview",
        parameters=[CAMPAIGN_ID, *PREVIEW_PARAMETERS],
        responses={**PNG_RESPONSE,
                   304: OpenApiResponse(description="Unchanged since the ETag sent."),
                   400: OpenApiResponse(description="A bad option; `fields` names it."),
                   404: OpenApiResponse(description="No such campaign in the caller's program."),
                   503: OpenApiResponse(description="Previews busy; retry after Retry-After.")},
        summary="A sample card (front above back) with the campaign's design",
    )
    def get(self, request, pk):
        """The saved design, or unsaved options given in the query string (nothing is saved)."""
        campaign = _design_campaign(request, pk)
        try:
            template_id, options = _asked_design(campaign, request.query_params)
            validity = {}
            if "card_validity_months" in request.query_params:
                validity["card_validity_months"] = _asked_validity(
                    request.query_params["card_validity_months"]
                )
            png, key = previews.campaign_preview(
                campaign=campaign, template_id=template_id, template_options=options,
                **validity,
            )
        except ValidationError as exc:
            return _studio_errors(exc, nest_options=False)
        except PreviewBusy as exc:
            return _busy(exc)
        except CardRenderError as exc:
            logger.warning("Preview of campaign %s failed: %s", campaign.pk, exc)
            return Response({"error": str(exc)}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
        return previews.png_response(request, png, key)


class CampaignDesignView(APIView):
    @extend_schema(operation_id="campaigns_design_retrieve", parameters=[CAMPAIGN_ID],
                   responses={200: CardDesignOutput, 404: OpenApiResponse()},
                   summary="A campaign's card design")
    def get(self, request, pk):
        return Response(CardDesignOutput(_design_data(_design_campaign(request, pk))).data)

    @extend_schema(
        operation_id="campaigns_design_update",
        parameters=[CAMPAIGN_ID],
        request=CardDesignInput,
        responses={200: CardDesignOutput,
                   400: OpenApiResponse(description="A bad option; `fields` names it."),
                   403: OpenApiResponse(description="Viewers cannot change a design."),
                   404: OpenApiResponse(),
                   409: OpenApiResponse(description="A generation job is running.")},
        summary="Change a campaign's card design (a validated design goes back to draft)",
    )
    def put(self, request, pk):
        campaign = _design_campaign(request, pk, Need.WRITE)
        data = CardDesignInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            campaign = studio_services.campaign_design_update(
                campaign=campaign,
                template_id=data.validated_data.get("template_id") or None,
                template_options=data.validated_data["template_options"],
            )
        except ValidationError as exc:
            return _studio_errors(exc, nest_options=True)
        except CampaignConflict as exc:
            return _conflict(exc)
        return Response(CardDesignOutput(_design_data(campaign)).data)


class CampaignDesignValidateView(APIView):
    @extend_schema(
        operation_id="campaigns_design_validate",
        parameters=[CAMPAIGN_ID],
        request=None,
        responses={200: CampaignDetailSerializer,
                   400: OpenApiResponse(description="The design cannot be rendered."),
                   403: OpenApiResponse(), 404: OpenApiResponse(),
                   409: OpenApiResponse(description="Archived, or a job is running.")},
        summary="Validate the card design: the campaign becomes preview_ready",
    )
    def post(self, request, pk):
        campaign = _design_campaign(request, pk, Need.WRITE)
        try:
            campaign = studio_services.campaign_design_validate(campaign=campaign)
        except ValidationError as exc:
            return _studio_errors(exc, nest_options=False)
        except CampaignConflict as exc:
            return _conflict(exc)
        metrics = selectors.campaign_metrics(campaign=campaign)
        campaign.beneficiary_count = metrics["beneficiaries"]
        campaign.metrics = metrics
        campaign.readiness = readiness.campaign_readiness(campaign=campaign, metrics=metrics)
        return Response(CampaignDetailSerializer(campaign).data)


def _template_data(template):
    return {
        "id": template.id,
        "type": template.id,
        "titles": template.titles,
        "purpose": template.purpose,
        "primary_colour": template.primary_colour,
        "accent_colour": template.accent_colour,
        "optional_fields": [
            {"key": key, "labels": labels}
            for key, labels in _optional_field_labels(template)
        ],
        "preview_url": reverse("api-template-preview", kwargs={"template": template.id}),
    }


def _optional_field_labels(template):
    labels = {f.key: f.labels for f in template.fields} | studio_catalogue.COMMON_LABELS
    return [(key, labels[key]) for key in studio.optional_field_keys(template.id)]


class TemplateListView(APIView):
    @extend_schema(operation_id="card_templates_list", responses=CardTemplateListOutput,
                   summary="The Card Studio templates, one per campaign type")
    def get(self, request):
        templates = [_template_data(template) for template in studio.TEMPLATES.values()]
        return Response(CardTemplateListOutput({"data": templates}).data)


class TemplatePreviewView(APIView):
    content_negotiation_class = IgnoreClientContentNegotiation

    @extend_schema(
        operation_id="card_templates_preview",
        parameters=[
            OpenApiParameter("template", OpenApiTypes.STR, OpenApiParameter.PATH,
                             description="A template id, e.g. vaccination."),
            OpenApiParameter("lang", OpenApiTypes.STR, enum=list(studio_catalogue.LANGUAGES)),
        ],
        responses={**PNG_RESPONSE, 404: OpenApiResponse(),
                   503: OpenApiResponse(description="Previews busy; retry after Retry-After.")},
        summary="The front of a template's sample card with its default colours",
    )
    def get(self, request, template):
        # Templates are the installation's, not a program's: any caller may see them.
        if template not in studio.TEMPLATES:
            raise NotFound(_("Unknown card template."))
        try:
            png, key = previews.template_sample(
                template_id=template, language=request.query_params.get("lang", "fr")
            )
        except PreviewBusy as exc:
            return _busy(exc)
        return previews.png_response(request, png, key)


def _busy(exc):
    return Response({"error": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE,
                    headers={"Retry-After": str(exc.retry_after)})
