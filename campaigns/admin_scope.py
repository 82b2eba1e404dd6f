"""Who sees and changes what in the back-office (Django admin).

- A superuser sees every program: the back-office of the installation.
- Any other staff user sees only the programs they are a member of (`Membership`), and
  changes rows only where their membership role allows it (`write_roles`: admins for
  programs, memberships and API keys; admins and operators for campaigns and
  beneficiaries). Their Django model permissions still decide which screens they get.
- Beneficiaries of sensitive (HIV) campaigns, and the job files that print their names,
  appear only to users whose membership of that program has `can_view_sensitive`,
  superusers included: seeing them takes an explicit, recorded grant.
"""

from django.contrib import admin

from campaigns.models import Campaign, Membership, Program, Role


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


class ProgramScopedAdmin(admin.ModelAdmin):
    """Rows limited to the user's programs; writes limited to programs where their role is in
    `write_roles`. `program_field` is the lookup path from the model to its Program."""

    program_field = "program"
    write_roles = (Role.ADMIN, Role.OPERATOR)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.program_field}__in": member_program_ids(request)})

    def writable_program_ids(self, request):
        return member_program_ids(request, self.write_roles)

    def may_write(self, request, obj=None):
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
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.program_field}__in": self.writable_program_ids(request)})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Choices never offer another program, nor a program where the user only reads.
        if not request.user.is_superuser:
            writable = self.writable_program_ids(request)
            if db_field.name == "program":
                kwargs["queryset"] = Program.objects.filter(pk__in=writable)
            elif db_field.name == "campaign":
                kwargs["queryset"] = Campaign.objects.filter(program__in=writable)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
