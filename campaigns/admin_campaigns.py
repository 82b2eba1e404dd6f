"""Back-office for campaigns and their beneficiaries (see admin_scope for who sees which
rows); lifecycle changes go through campaigns.lifecycle. Generation jobs are in
cards/admin_jobs.py."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from campaigns.admin_scope import ProgramScopedAdmin
from campaigns.lifecycle import (
    EDITABLE_FIELDS,
    MAX_CARD_VALIDITY_MONTHS,
    CampaignConflict,
    campaign_archive,
    campaign_create,
    campaign_restore,
    campaign_unarchive,
    campaign_update,
    known_template_ids,
    normalise_prefix,
)
from campaigns.models import SENSITIVE_CAMPAIGN_TYPES, Beneficiary, Campaign, OptOutSource
from campaigns.phones import InvalidPhone, mask_phone, phone_to_e164


class CampaignStateFilter(admin.SimpleListFilter):
    title = gettext_lazy("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", _("Active")), ("archived", _("Archived")), ("deleted", _("Deleted"))]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(deleted_at__isnull=True, archived_at__isnull=True)
        if self.value() == "archived":
            return queryset.filter(deleted_at__isnull=True, archived_at__isnull=False)
        if self.value() == "deleted":
            return queryset.filter(deleted_at__isnull=False)
        return queryset


class CampaignForm(forms.ModelForm):
    # The lifecycle service refuses what the model alone would accept; say it on the form.
    template_id = forms.ChoiceField(
        label=gettext_lazy("Template"),
        choices=[("", "—"), *((t, t) for t in sorted(known_template_ids()))],
        required=False,
    )
    card_validity_months = forms.IntegerField(
        label=gettext_lazy("Card validity (months)"),
        min_value=1,
        max_value=MAX_CARD_VALIDITY_MONTHS,
        required=False,
    )

    def clean_prefix(self):
        return normalise_prefix(self.cleaned_data.get("prefix"))

    def clean(self):
        cleaned = super().clean()
        campaign_type = cleaned.get("campaign_type", self.instance.campaign_type)
        if "sensitive" in cleaned and campaign_type in SENSITIVE_CAMPAIGN_TYPES:
            cleaned["sensitive"] = True  # whatever the box said: an HIV campaign always is
        return cleaned


@admin.register(Campaign)
class CampaignAdmin(ProgramScopedAdmin):
    form = CampaignForm
    campaign_field = ""
    list_display = (
        "name", "prefix", "program", "campaign_type", "sensitive", "status",
        "beneficiaries_link", "state", "created_at",
    )
    list_filter = (
        CampaignStateFilter, "status", "campaign_type", "sensitive", "language",
        ("program", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("name", "prefix", "description")
    list_select_related = ("program",)
    date_hierarchy = "created_at"
    actions = ("archive_campaigns", "unarchive_campaigns", "restore_campaigns")
    readonly_fields = ("status", "created_by", "created_at", "updated_at", "archived_at",
                       "deleted_at")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(people=Count("beneficiaries"))

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        # The prefix is printed in every card code and the type decides the card's fields.
        fixed = ("program", "prefix", "campaign_type", *self.readonly_fields)
        return (*fixed, "sensitive") if obj.campaign_type in SENSITIVE_CAMPAIGN_TYPES else fixed

    def has_delete_permission(self, request, obj=None):
        # Campaigns are soft-deleted, restored and purged through their lifecycle, not here.
        return False

    def save_model(self, request, obj, form, change):
        # A read-only field (an HIV campaign's `sensitive`) is not in the form: left as it is.
        values = {
            name: form.cleaned_data.get(name) for name in EDITABLE_FIELDS
            if name in form.cleaned_data
        }
        values["template_id"] = values["template_id"] or ""
        if change:
            campaign_update(campaign=obj, **values)
            return
        created = campaign_create(
            program=obj.program,
            user=request.user,
            prefix=obj.prefix,
            campaign_type=obj.campaign_type,
            **values,
        )
        vars(obj).update(vars(created))

    @admin.display(description=gettext_lazy("Beneficiaries"), ordering="people")
    def beneficiaries_link(self, campaign):
        url = reverse("admin:campaigns_beneficiary_changelist")
        return format_html(
            '<a href="{}?campaign__id__exact={}">{}</a>', url, campaign.pk, campaign.people
        )

    @admin.display(description=gettext_lazy("State"))
    def state(self, campaign):
        if campaign.deleted_at:
            return _("Deleted")
        if campaign.archived_at:
            return _("Archived")
        return _("Active")

    def _apply(self, request, queryset, service, done_message):
        changed = 0
        for campaign in self.writable(request, queryset):
            try:
                service(campaign=campaign)
            except (CampaignConflict, ValidationError) as exc:
                self.message_user(request, f"{campaign}: {exc}", messages.ERROR)
                continue
            changed += 1
        self.message_user(request, done_message(changed))

    @admin.action(description=gettext_lazy("Archive the selected campaigns"),
                  permissions=["change"])
    def archive_campaigns(self, request, queryset):
        self._apply(request, queryset, campaign_archive, lambda n: ngettext(
            "%(n)d campaign archived.", "%(n)d campaigns archived.", n) % {"n": n})

    @admin.action(description=gettext_lazy("Unarchive the selected campaigns"),
                  permissions=["change"])
    def unarchive_campaigns(self, request, queryset):
        self._apply(request, queryset, campaign_unarchive, lambda n: ngettext(
            "%(n)d campaign unarchived.", "%(n)d campaigns unarchived.", n) % {"n": n})

    @admin.action(description=gettext_lazy("Restore the selected deleted campaigns"),
                  permissions=["change"])
    def restore_campaigns(self, request, queryset):
        self._apply(request, queryset, campaign_restore, lambda n: ngettext(
            "%(n)d campaign restored.", "%(n)d campaigns restored.", n) % {"n": n})


class BeneficiaryForm(forms.ModelForm):
    def clean_phone(self):
        region = self.instance.campaign.program.country if self.instance.campaign_id else None
        try:
            return phone_to_e164(self.cleaned_data.get("phone"), default_region=region)
        except InvalidPhone as exc:
            raise ValidationError(str(exc)) from None


@admin.register(Beneficiary)
class BeneficiaryAdmin(ProgramScopedAdmin):
    program_field = "campaign__program"
    campaign_field = "campaign"
    names_people = True
    form = BeneficiaryForm
    list_display = (
        "last_name", "first_name", "campaign", "sex", "date_of_birth", "external_id",
        "masked_phone", "opted_out",
    )
    list_filter = ("campaign__campaign_type", "sex", ("campaign", admin.RelatedOnlyFieldListFilter))
    search_fields = ("last_name", "first_name", "external_id", "mpi_id", "=phone")
    list_select_related = ("campaign",)
    # Campaigns hold tens of thousands of people: no COUNT(*) of the whole table per page.
    show_full_result_count = False
    readonly_fields = ("opted_out_source", "created_at", "updated_at")

    def save_model(self, request, obj, form, change):
        # Staff set or lift an opt-out here; its source follows (campaigns/opt_out.py).
        if "opted_out_at" in form.changed_data:
            obj.opted_out_source = OptOutSource.ADMIN if obj.opted_out_at else ""
        super().save_model(request, obj, form, change)

    def get_readonly_fields(self, request, obj=None):
        # A beneficiary's cards carry the campaign's prefix; moving them would orphan those.
        return ("campaign", *self.readonly_fields) if obj else self.readonly_fields

    def has_add_permission(self, request):
        # People arrive through the import (CSV/JSON/DHIS2), which validates every row.
        return False

    @admin.display(description=gettext_lazy("Phone"))
    def masked_phone(self, beneficiary):
        return mask_phone(beneficiary.phone)

    @admin.display(description=gettext_lazy("Opted out"), boolean=True)
    def opted_out(self, beneficiary):
        return beneficiary.opted_out_at is not None
