"""Who sees and changes what in the back-office (Django admin).

- A superuser sees every program: the back-office of the installation.
- Any other staff user sees only the programs they are a member of (`Membership`), and
  changes rows only where their membership role allows it (`write_roles`: admins for
  programs, memberships and API keys; admins and operators for campaigns and
  beneficiaries). Their Django model permissions still decide which screens they get.
- Rows of sensitive campaigns (HIV always, any campaign flagged `sensitive`) that name or
  reach a person (beneficiaries, cards, messages, DHIS2 skipped entities) and the job files
  that print names appear only to users whose membership of that program has
  `can_view_sensitive`, superusers included: seeing them takes an explicit, recorded grant.
  Changing anything of such a campaign takes the grant too. Searches and filters run on the
  rows left, so they cannot reveal a hidden person either.
"""

from django.contrib import admin
from django.db.models import Q

from campaigns.models import SENSITIVE_CAMPAIGN_TYPES, Campaign, Membership, Program, Role


def _memberships(request):
    """(program_id, role, can_view_sensitive) of the user, read once per request."""
    if not hasattr(request, "_admin_memberships"):
        request._admin_memberships = list(
            Membership.objects.filter(user=request.user).values_list(
                "program_id", "role", "can_view_sensitive"
            )
        )
    return request._admin_memberships


def member_program_ids(request, roles=None):
    return {pid for pid, role, _s in _memberships(request) if roles is None or role in roles}


def sensitive_program_ids(request):
    return {pid for pid, _role, sensitive in _memberships(request) if sensitive}


def may_see_sensitive(request, program_id):
    return program_id in sensitive_program_ids(request)


def _program_id_of(obj, program_field):
    *path, last = program_field.split("__")
    for step in path:
        obj = getattr(obj, step)
    return getattr(obj, f"{last}_id")


def _campaign_of(obj, campaign_field):
    for step in campaign_field.split("__") if campaign_field else ():
        obj = getattr(obj, step)
    return obj


def without_ungranted_sensitive(request, queryset, campaign_field):
    """`queryset` without the rows of sensitive campaigns whose program has not granted the
    user "can view sensitive". `campaign_field` is the path to the Campaign ("" for campaigns
    themselves)."""
    prefix = f"{campaign_field}__" if campaign_field else ""
    sensitive = Q(**{f"{prefix}sensitive": True}) | Q(
        **{f"{prefix}campaign_type__in": sorted(SENSITIVE_CAMPAIGN_TYPES)}
    )
    granted = Q(**{f"{prefix}program__in": sensitive_program_ids(request)})
    return queryset.filter(~sensitive | granted)


class ProgramScopedAdmin(admin.ModelAdmin):
    """Rows limited to the user's programs; writes limited to programs where their role is in
    `write_roles`. `program_field` is the lookup path from the model to its Program.

    `campaign_field` is the path to the row's Campaign (None: the row is above campaigns):
    a sensitive campaign's rows are then changed only with the grant, and, when
    `names_people`, listed and opened only with it."""

    program_field = "program"
    write_roles = (Role.ADMIN, Role.OPERATOR)
    campaign_field = None
    names_people = False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if self.names_people:
            queryset = without_ungranted_sensitive(request, queryset, self.campaign_field)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.program_field}__in": member_program_ids(request)})

    def writable_program_ids(self, request):
        return member_program_ids(request, self.write_roles)

    def may_write(self, request, obj=None):
        if obj is not None and self.campaign_field is not None:
            campaign = _campaign_of(obj, self.campaign_field)
            if campaign.is_sensitive and not may_see_sensitive(request, campaign.program_id):
                return False
        if request.user.is_superuser:
            return True
        writable = self.writable_program_ids(request)
        if obj is None:
            return bool(writable)
        return _program_id_of(obj, self.program_field) in writable

    def has_add_permission(self, request):
        return super().has_add_permission(request) and self.may_write(request)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self.may_write(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self.may_write(request, obj)

    def writable(self, request, queryset):
        """The part of an action's selection the user may change."""
        if self.campaign_field is not None:
            queryset = without_ungranted_sensitive(request, queryset, self.campaign_field)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.program_field}__in": self.writable_program_ids(request)})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Choices never offer another program, nor a program where the user only reads, nor a
        # sensitive campaign without the grant.
        campaigns = Campaign.objects.all()
        if not request.user.is_superuser:
            writable = self.writable_program_ids(request)
            campaigns = campaigns.filter(program__in=writable)
            if db_field.name == "program":
                kwargs["queryset"] = Program.objects.filter(pk__in=writable)
        if db_field.name == "campaign":
            kwargs["queryset"] = without_ungranted_sensitive(request, campaigns, "")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
