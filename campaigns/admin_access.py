"""Back-office (Django admin) for who may do what in a program: memberships and API keys,
and their sensitive grants (campaigns.services.sensitive_grant_set records who granted it and
when, and refuses anyone but an admin of the program, and anyone granting themselves).
Programs and the quota ledger are in campaigns/admin.py."""

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpResponseRedirect
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from campaigns import admin_campaigns  # noqa: F401  (registers campaigns, beneficiaries, jobs)
from campaigns.admin_scope import ProgramScopedAdmin, member_program_ids
from campaigns.logins import is_locked_out, login_unlock
from campaigns.models import ApiKey, Membership, Role
from campaigns.services import (
    GrantRefused,
    api_key_create,
    api_key_revoke,
    membership_set,
    sensitive_grant_set,
)

GRANT_FIELDS = ("sensitive_granted_by", "sensitive_granted_at")


class _RolledBack(Exception):
    pass


def grant_refusal(holder, by):
    """Why sensitive_grant_set would refuse `by` granting `holder`, or None. Asked of the
    service itself in a savepoint that is always rolled back: a form then shows the refusal
    as its own error before anything is saved, and the rule stays in one place."""
    try:
        with transaction.atomic():
            sensitive_grant_set(holder=holder, granted=True, by=by)
            raise _RolledBack
    except GrantRefused as exc:
        return exc
    except _RolledBack:
        return None


class GrantForm(forms.ModelForm):
    """A membership or key form whose new "can view sensitive" grant is checked on validation.
    `granted_by` is the user saving it, set on the per-request form class by the admin."""

    granted_by = None

    def new_holder(self, cleaned):
        raise NotImplementedError

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("can_view_sensitive") and "can_view_sensitive" in self.changed_data:
            holder = self.new_holder(cleaned)
            refusal = holder and grant_refusal(holder, self.granted_by)
            if refusal:
                self.add_error("can_view_sensitive", str(refusal))
        return cleaned


class MembershipForm(GrantForm):
    """Whose membership it is never changes afterwards: a grant belongs to one person."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name in ("user", "program"):
                if name in self.fields:
                    self.fields[name].disabled = True

    def new_holder(self, cleaned):
        user = cleaned.get("user")
        program_id = cleaned["program"].pk if cleaned.get("program") else self.instance.program_id
        return Membership(user=user, program_id=program_id) if user else None


class ApiKeyForm(GrantForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None and "role" in self.fields:
            # The least role that works for an integration; admin only when chosen.
            self.initial["role"] = Role.OPERATOR

    def new_holder(self, cleaned):
        return ApiKey(program=cleaned["program"]) if cleaned.get("program") else None


class GrantRefusedAsMessage:
    """A grant the service refuses at save time (the form checked it, a race did not) rolls
    the whole page back and comes back as an error message, not a 403 page."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except GrantRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


def save_membership(request, membership, program):
    saved = membership_set(
        user=membership.user,
        program=program,
        role=membership.role,
        can_view_sensitive=membership.can_view_sensitive,
        granted_by=request.user,
    )
    membership.pk, membership.created_at = saved.pk, saved.created_at
    membership.sensitive_granted_by = saved.sensitive_granted_by
    membership.sensitive_granted_at = saved.sensitive_granted_at
    membership._state.adding = False


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipForm
    extra = 0
    fields = ("user", "role", "can_view_sensitive", *GRANT_FIELDS, "created_at")
    readonly_fields = (*GRANT_FIELDS, "created_at")
    autocomplete_fields = ("user",)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.granted_by = request.user  # a class built for this request
        return formset

    def _may_manage(self, request, program):
        if request.user.is_superuser:
            return True
        return program is not None and program.pk in member_program_ids(request, (Role.ADMIN,))

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._may_manage(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_manage(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_manage(request, obj)


@admin.register(Membership)
class MembershipAdmin(GrantRefusedAsMessage, ProgramScopedAdmin):
    form = MembershipForm
    write_roles = (Role.ADMIN,)
    list_display = (
        "user", "program", "role", "can_view_sensitive", "sensitive_granted_by", "created_at",
        "login_locked",
    )
    list_filter = ("role", "can_view_sensitive", ("program", admin.RelatedOnlyFieldListFilter))
    search_fields = ("user__username", "user__email", "program__name", "program__slug")
    list_select_related = ("user", "program", "sensitive_granted_by")
    autocomplete_fields = ("user",)
    readonly_fields = (*GRANT_FIELDS, "created_at")
    actions = ("unlock_logins",)

    @admin.display(description=gettext_lazy("Login locked"), boolean=True)
    def login_locked(self, membership):
        return is_locked_out(membership.user.get_username())

    @admin.action(description=gettext_lazy("Unlock login (forget failed logins)"),
                  permissions=["change"])
    def unlock_logins(self, request, queryset):
        # Only rows of programs the user administers; a user in two of them is unlocked once.
        users = {m.user for m in self.writable(request, queryset).select_related("user")}
        for user in users:
            login_unlock(user=user, by=request.user)
        self.message_user(request, ngettext(
            "%(count)d login unlocked.", "%(count)d logins unlocked.", len(users)
        ) % {"count": len(users)}, messages.SUCCESS)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.granted_by = request.user  # a class built for this request
        return form

    def save_model(self, request, obj, form, change):
        save_membership(request, obj, obj.program)


class KeyStateFilter(admin.SimpleListFilter):
    title = gettext_lazy("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", _("Active")), ("revoked", _("Revoked"))]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(GrantRefusedAsMessage, ProgramScopedAdmin):
    """Keys are created by the service and shown once; afterwards only the prefix is known.
    A key's program, role and sensitivity are fixed: to change them, create a new key and
    revoke the old one."""

    form = ApiKeyForm
    write_roles = (Role.ADMIN,)
    list_display = (
        "name", "program", "prefix", "role", "can_view_sensitive", "created_at", "last_used_at",
        "revoked_at",
    )
    list_filter = (KeyStateFilter, "role", ("program", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "prefix", "program__name", "program__slug")
    list_select_related = ("program",)
    date_hierarchy = "created_at"
    actions = ("revoke_keys",)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("program", "name", "role", "can_view_sensitive")
        return (
            "program", "name", "role", "can_view_sensitive", *GRANT_FIELDS, "prefix",
            "created_at", "last_used_at", "revoked_at",
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (
            "program", "role", "can_view_sensitive", *GRANT_FIELDS, "prefix", "created_at",
            "last_used_at", "revoked_at",
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.granted_by = request.user  # a class built for this request
        return form

    def has_delete_permission(self, request, obj=None):
        # Revoke instead: the row keeps who could act for the program, and until when.
        return False

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name"])
            return
        key, raw_key = api_key_create(
            program=obj.program,
            name=obj.name,
            role=obj.role,
            can_view_sensitive=obj.can_view_sensitive,
            granted_by=request.user,
        )
        obj.pk, obj.prefix, obj.hashed_key, obj.created_at = (
            key.pk, key.prefix, key.hashed_key, key.created_at,
        )
        obj._state.adding = False
        messages.warning(
            request,
            format_html(
                "{} <code>{}</code>",
                _("API key created. Copy it now: it is shown only this once."),
                raw_key,
            ),
        )

    @admin.action(description=gettext_lazy("Revoke the selected API keys"), permissions=["change"])
    def revoke_keys(self, request, queryset):
        keys = list(self.writable(request, queryset).filter(revoked_at__isnull=True))
        for key in keys:
            api_key_revoke(api_key=key)
        self.message_user(
            request,
            ngettext("%(n)d key revoked.", "%(n)d keys revoked.", len(keys)) % {"n": len(keys)},
        )
