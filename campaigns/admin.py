"""Back-office (Django admin) for programs and the quota ledger; memberships and API keys are
in campaigns/admin_access.py, campaigns and beneficiaries in campaigns/admin_campaigns.py,
and who sees which program's rows in campaigns/admin_scope.py.

State changes go through the services (campaigns.services, campaigns.lifecycle,
cards.generation); the admin only maps forms and actions onto them. A "can view sensitive"
grant goes through sensitive_grant_set, which records who granted it and when, and refuses
anyone but an admin of the program, and anyone granting themselves.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminFileWidget
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Count, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns import admin_campaigns  # noqa: F401  (registers campaigns, beneficiaries)
from campaigns.admin_access import (
    GrantRefusedAsMessage,
    MembershipInline,
    save_membership,
)
from campaigns.admin_scope import ProgramScopedAdmin
from campaigns.logos import logo_content
from campaigns.models import Membership, Program, QuotaTransaction, Role
from campaigns.services import (
    program_create,
    quota_balance,
    quota_grant,
)

RECENT_LEDGER_ROWS = 10


class LogoWidget(AdminFileWidget):
    """Links the current logo to the checked view: nothing under /media/ is served."""

    def format_value(self, value):
        if self.is_initial(value) and value.instance.pk:
            return _ShownFile(value.name.rsplit("/", 1)[-1],
                              reverse("program-logo", args=[value.instance.pk]))
        return super().format_value(value)


class _ShownFile:
    def __init__(self, name, url):
        self.name, self.url = name, url

    def __str__(self):
        return self.name


class ProgramForm(forms.ModelForm):
    """A new logo goes through campaigns.logos like a Card Studio upload: PNG or JPEG sniffed
    from its bytes, size checked before decoding, stored re-encoded without metadata."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "logo" in self.fields:
            self.fields["logo"].widget = LogoWidget()

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if isinstance(logo, UploadedFile):
            slug = self.cleaned_data.get("slug") or self.instance.slug or "program"
            return logo_content(upload=logo, slug=slug)
        return logo


class ProgramGrantForm(ProgramForm):
    """The program form a superuser gets: it can also grant quota (a ledger row)."""

    grant_units = forms.IntegerField(
        label=gettext_lazy("Grant quota units"),
        min_value=1,
        required=False,
        help_text=gettext_lazy("Adds a grant to the ledger (initial plan on a new program)."),
    )
    grant_note = forms.CharField(label=gettext_lazy("Grant note"), max_length=255, required=False)


@admin.register(Program)
class ProgramAdmin(GrantRefusedAsMessage, ProgramScopedAdmin):
    program_field = "pk"
    write_roles = (Role.ADMIN,)
    list_display = ("name", "slug", "country", "plan", "balance", "member_count", "created_at")
    list_filter = ("country", "plan")
    search_fields = ("name", "slug")
    date_hierarchy = "created_at"
    inlines = (MembershipInline,)
    form = ProgramForm
    readonly_fields = ("balance", "recent_ledger", "created_at")

    def get_queryset(self, request):
        balance = (
            QuotaTransaction.objects.filter(program=OuterRef("pk"))
            .order_by()
            .values("program")
            .annotate(total=Sum("units"))
            .values("total")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(quota_balance=Coalesce(Subquery(balance), 0), members=Count("memberships"))
        )

    def may_write(self, request, obj=None):
        if request.user.is_superuser or obj is None:
            return super().may_write(request, obj)
        return obj.pk in self.writable_program_ids(request)

    def has_add_permission(self, request):
        # A program is a tenant: only the installation's back-office creates one.
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_form(self, request, obj=None, change=False, **kwargs):
        if request.user.is_superuser:
            kwargs["form"] = ProgramGrantForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ["name", "slug", "country", "timezone", "logo", "brand_colour"]}),
            (_("Plan and quota"), {"fields": ["plan", "balance", "recent_ledger"]}),
        ]
        if request.user.is_superuser:
            fieldsets[1][1]["fields"] += ["grant_units", "grant_note"]
        if obj is None:
            fieldsets[1][1]["fields"].remove("recent_ledger")
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        # Integrators and commands name a program by its slug.
        return (*self.readonly_fields, "slug") if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        units = form.cleaned_data.get("grant_units") if request.user.is_superuser else None
        note = form.cleaned_data.get("grant_note") or ""
        if change:
            obj.save()
            if units:
                quota_grant(program=obj, units=units, note=note or _("Granted in the admin"))
            return
        created = program_create(
            slug=obj.slug,
            name=obj.name,
            quota=units or 0,
            country=obj.country,
            timezone_name=obj.timezone,
        )
        # program_create sets what it knows; the rest of the form (logo, colour, plan) follows.
        obj.pk, obj.created_at = created.pk, created.created_at
        obj._state.adding = False
        obj.save()

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        memberships = formset.save(commit=False)
        for membership in formset.deleted_objects:
            membership.delete()
        for membership in memberships:
            save_membership(request, membership, form.instance)

    @admin.display(description=gettext_lazy("Quota balance"), ordering="quota_balance")
    def balance(self, program):
        if program.pk is None:
            return "—"
        value = getattr(program, "quota_balance", None)
        return value if value is not None else quota_balance(program=program)

    @admin.display(description=gettext_lazy("Members"), ordering="members")
    def member_count(self, program):
        return program.members

    class Media:
        # The ledger's alignment: the Content-Security-Policy allows no inline style.
        css = {"all": ["css/admin.css"]}

    @admin.display(description=gettext_lazy("Recent ledger"))
    def recent_ledger(self, program):
        rows = QuotaTransaction.objects.for_program(program)[:RECENT_LEDGER_ROWS]
        table = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td class='ledger-units'>{}</td><td>{}</td></tr>",
            (
                (row.created_at.strftime("%Y-%m-%d %H:%M"), row.get_kind_display(), row.units,
                 row.note)
                for row in rows
            ),
        )
        link = reverse("admin:campaigns_quotatransaction_changelist")
        return format_html(
            '<table>{}</table><p><a href="{}?program__id__exact={}">{}</a></p>',
            table,
            link,
            program.pk,
            _("Full ledger"),
        )


@admin.register(QuotaTransaction)
class QuotaTransactionAdmin(ProgramScopedAdmin):
    """The ledger is append-only: read here, written only by the quota services."""

    list_display = ("created_at", "program", "kind", "units", "job", "note")
    list_filter = ("kind", ("program", admin.RelatedOnlyFieldListFilter))
    search_fields = ("note", "program__name", "program__slug")
    list_select_related = ("program",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

