"""Shapes of the campaigns API: what a request may send, what a response holds.

Serializers parse and describe (the OpenAPI document is generated from them); the rules
live in campaigns.lifecycle and the reads in campaigns.selectors.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils import html

from campaigns.access import MAX_OFFSET
from campaigns.lifecycle import MAX_CARD_VALIDITY_MONTHS
from campaigns.models import Campaign, CampaignType, Dpi, Language
from campaigns.selectors import ARCHIVED_CHOICES, DEFAULT_LIMIT, MAX_LIMIT, SORT_FIELDS

# ---------------------------------------------------------------- list query string


@extend_schema_field(OpenApiTypes.STR)
class ChoiceListField(serializers.Field):
    """One or several choices: `?status=draft,failed` or `?status=draft&status=failed`."""

    def __init__(self, *, choices, **kwargs):
        self.choices = list(choices)
        super().__init__(**kwargs)

    def get_value(self, dictionary):
        if html.is_html_input(dictionary):
            values = dictionary.getlist(self.field_name)
            return ",".join(values) if values else serializers.empty
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = data.split(",")
        if not isinstance(data, list):
            self.fail("invalid")
        values = [str(v).strip() for v in data if str(v).strip()]
        unknown = [v for v in values if v not in self.choices]
        if unknown:
            raise serializers.ValidationError(
                _("Unknown value(s) %(values)s; expected some of: %(choices)s.")
                % {"values": ", ".join(unknown), "choices": ", ".join(self.choices)}
            )
        return values

    def to_representation(self, value):
        return list(value)

    default_error_messages = {"invalid": _("A comma-separated list of values.")}


class CampaignListQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False, allow_blank=True, help_text=_("Searches the name, prefix and description.")
    )
    status = ChoiceListField(
        choices=Campaign.Status.values,
        required=False,
        help_text=_("One or more statuses, comma-separated: %(choices)s")
        % {"choices": ", ".join(Campaign.Status.values)},
    )
    campaign_type = ChoiceListField(
        choices=CampaignType.values,
        required=False,
        help_text=_("One or more campaign types, comma-separated."),
    )
    archived = serializers.ChoiceField(
        choices=ARCHIVED_CHOICES,
        default="false",
        help_text=_("false (default): not archived; true: only archived; all: both."),
    )
    include_deleted = serializers.BooleanField(
        default=False, help_text=_("Also list soft-deleted campaigns.")
    )
    only_deleted = serializers.BooleanField(
        default=False, help_text=_("List only soft-deleted campaigns.")
    )
    date_from = serializers.DateField(
        required=False, help_text=_("Created on or after this day (YYYY-MM-DD).")
    )
    date_to = serializers.DateField(
        required=False, help_text=_("Created on or before this day (YYYY-MM-DD).")
    )
    sort_field = serializers.ChoiceField(choices=SORT_FIELDS, default="created_at")
    sort_dir = serializers.ChoiceField(choices=("asc", "desc"), default="desc")
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT)
    offset = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET, default=0)
    include_aggregations = serializers.BooleanField(
        default=False, help_text=_("Add the quick-filter counts.")
    )

    def to_internal_value(self, data):
        # Integrators write `archived=True` or `sort_dir=DESC`; the meaning is the same.
        if html.is_html_input(data):
            data = data.copy()
            for name in ("archived", "sort_dir"):
                if name in data:
                    data[name] = data[name].strip().lower()
        return super().to_internal_value(data)

    def validate(self, attrs):
        start, end = attrs.get("date_from"), attrs.get("date_to")
        if start and end and end < start:
            raise serializers.ValidationError({"date_to": _("date_to is before date_from.")})
        return attrs


# ---------------------------------------------------------------- output


class NamedEnumField(serializers.ChoiceField):
    """A choice field documented as its own named enum component. Several models have a
    `status`; left to itself the schema generator can only name their enums by a hash."""

    def __init__(self, component_name, **kwargs):
        self.component_name = component_name
        super().__init__(**kwargs)


class NamedEnumFieldSchema(OpenApiSerializerFieldExtension):
    target_class = NamedEnumField

    def get_name(self):
        return self.target.component_name

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        # The description belongs to the enum, not to the field that refers to it.
        return {k: v for k, v in schema.items() if k in ("type", "enum", "description")}


class CampaignSerializer(serializers.ModelSerializer):
    beneficiaries = serializers.IntegerField(source="beneficiary_count", read_only=True)

    status = NamedEnumField("CampaignStatusEnum", choices=Campaign.Status.choices, read_only=True)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "prefix",
            "campaign_type",
            "language",
            "template_id",
            "dpi",
            "card_validity_months",
            "sensitive",
            "description",
            "status",
            "beneficiaries",
            "created_at",
            "updated_at",
            "archived_at",
            "deleted_at",
        ]
        read_only_fields = fields


class CampaignLastJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    progress = serializers.IntegerField()
    cards_generated = serializers.IntegerField()
    total_cards = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class CampaignMetricsSerializer(serializers.Serializer):
    beneficiaries = serializers.IntegerField()
    with_phone = serializers.IntegerField(help_text=_("Beneficiaries with a valid phone number."))
    without_phone = serializers.IntegerField()
    cards_issued = serializers.IntegerField(help_text=_("Cards made by completed jobs."))
    jobs = serializers.IntegerField()
    last_job = CampaignLastJobSerializer(allow_null=True)
    # Distribution's figures (settings.CAMPAIGN_METRICS): people, counted once each across
    # every dispatch and single send of the campaign.
    contacted = serializers.IntegerField(
        help_text=_("People with at least one message attempt (dispatch or single send).")
    )
    succeeded = serializers.IntegerField(
        help_text=_("People with at least one message a provider accepted (sent, delivered "
                    "or read).")
    )
    failed = serializers.IntegerField(
        help_text=_("Contacted people without success: every attempt failed, none is pending "
                    "and no retry is queued.")
    )
    skipped = serializers.IntegerField(
        help_text=_("People a dispatch skipped (opted out, no consent, no phone, no card, card "
                    "revoked) who have no successful message.")
    )
    to_retry = serializers.IntegerField(
        help_text=_("People without success waiting in a running or paused dispatch for "
                    "another attempt.")
    )
    contact_rate = serializers.FloatField(
        allow_null=True,
        help_text=_("contacted / beneficiaries, from 0 to 1 (4 decimals); null without "
                    "beneficiaries."),
    )
    success_rate = serializers.FloatField(
        allow_null=True,
        help_text=_("succeeded / contacted, from 0 to 1 (4 decimals); null when no one was "
                    "contacted."),
    )


class ReadinessCheckSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    status = NamedEnumField(
        "ReadinessCheckStatusEnum",
        choices=("ready", "missing", "warning"),
        help_text=_("missing blocks the start; warning does not."),
    )
    detail = serializers.CharField()
    action = serializers.CharField(allow_null=True, help_text=_("What to do; null when ready."))


class ReadinessSerializer(serializers.Serializer):
    can_start = serializers.BooleanField(help_text=_("True when no check is missing."))
    checks = ReadinessCheckSerializer(many=True)


class CampaignDetailSerializer(CampaignSerializer):
    """A campaign with its Card Studio options, metrics and readiness (the view attaches
    `metrics` and `readiness` to the instance)."""

    metrics = CampaignMetricsSerializer(read_only=True)
    readiness = ReadinessSerializer(read_only=True)

    class Meta(CampaignSerializer.Meta):
        fields = [*CampaignSerializer.Meta.fields, "template_options", "metrics", "readiness"]
        read_only_fields = fields


class CampaignListSortSerializer(serializers.Serializer):
    field = serializers.CharField()
    direction = serializers.ChoiceField(choices=("asc", "desc"))


class CampaignListMetaSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()
    sort = CampaignListSortSerializer()


class CampaignListQueryEchoSerializer(serializers.Serializer):
    q = serializers.CharField(allow_blank=True)
    status = serializers.ListField(child=serializers.CharField())
    campaign_type = serializers.ListField(child=serializers.CharField())
    archived = serializers.CharField()
    include_deleted = serializers.BooleanField()
    only_deleted = serializers.BooleanField()
    date_from = serializers.DateField(allow_null=True)
    date_to = serializers.DateField(allow_null=True)


class CampaignQuickFiltersSerializer(serializers.Serializer):
    status = serializers.DictField(child=serializers.IntegerField())
    campaign_type = serializers.DictField(child=serializers.IntegerField())
    archived = serializers.IntegerField(help_text=_("Archived campaigns (not deleted)."))
    deleted = serializers.IntegerField()


class CampaignAggregationsSerializer(serializers.Serializer):
    quick_filters = CampaignQuickFiltersSerializer()


class CampaignListSerializer(serializers.Serializer):
    data = CampaignSerializer(many=True)
    meta = CampaignListMetaSerializer()
    query = CampaignListQueryEchoSerializer()
    aggregations = CampaignAggregationsSerializer(
        required=False, help_text=_("Only with include_aggregations=true.")
    )


# ---------------------------------------------------------------- input


class CampaignWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    campaign_type = serializers.ChoiceField(choices=CampaignType.choices)
    prefix = serializers.CharField(
        max_length=20,
        help_text=_(
            "3 to 8 characters, A-Z 0-9 and inner hyphens (lower case is upper-cased); "
            "unique across the installation and fixed once created."
        ),
    )
    language = serializers.ChoiceField(choices=Language.choices, default=Language.FR)
    template_id = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text=_("A Card Studio template id; defaults to the campaign type."),
    )
    template_options = serializers.DictField(required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    dpi = serializers.ChoiceField(choices=Dpi.choices, default=Dpi.DPI_300)
    card_validity_months = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_CARD_VALIDITY_MONTHS,
        help_text=_("Cards expire this many months after issue; null: they do not expire."),
    )
    sensitive = serializers.BooleanField(
        required=False,
        help_text=_("People, cards and files need the sensitive-data grant, and public pages "
                    "and messages show a neutral label. Always true for HIV; turning it off "
                    "takes a program admin."),
    )


class CampaignCreateSerializer(CampaignWriteSerializer):
    pass


class CampaignUpdateSerializer(CampaignWriteSerializer):
    """Every field optional. `prefix` and `campaign_type` may be sent with their current
    value only."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class CampaignDuplicateSerializer(serializers.Serializer):
    prefix = serializers.CharField(max_length=20, help_text=_("The copy's own prefix."))
    name = serializers.CharField(
        required=False, allow_blank=True, max_length=200,
        help_text=_("Defaults to the original's name with “(copy)”."),
    )


class CampaignArchiveSerializer(serializers.Serializer):
    archived = serializers.BooleanField(default=True, help_text=_("false un-archives."))
