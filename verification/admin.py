"""Back-office for signing keys: read-only (private keys never leave their encrypted column);
the one change is rotation, through verification.keys.signing_key_rotate."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy, ngettext

from campaigns.admin_scope import ProgramScopedAdmin
from campaigns.models import Program, Role
from verification.keys import signing_key_rotate
from verification.models import SigningKey


@admin.register(SigningKey)
class SigningKeyAdmin(ProgramScopedAdmin):
    write_roles = (Role.ADMIN,)
    list_display = ("kid", "program", "status", "created_at", "retired_at")
    list_filter = (("program", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("=kid", "program__slug", "program__name")
    list_select_related = ("program",)
    fields = ("kid", "program", "status", "public_key", "created_at", "retired_at")
    readonly_fields = fields
    actions = ("rotate_keys",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # A deleted key would turn every card it signed into "forged".
        return False

    @admin.display(description=gettext_lazy("Status"))
    def status(self, key):
        return key.status

    @admin.action(description=gettext_lazy("Rotate the keys of the selected keys' programs"))
    def rotate_keys(self, request, queryset):
        """A new active key per program; the old one is retired and keeps verifying its cards."""
        program_ids = set(self.writable(request, queryset).values_list("program_id", flat=True))
        for program in Program.objects.filter(pk__in=program_ids):
            signing_key_rotate(program=program)
        self.message_user(
            request,
            ngettext(
                "%(n)d program has a new signing key.", "%(n)d programs have a new signing key.",
                len(program_ids),
            ) % {"n": len(program_ids)},
            messages.SUCCESS,
        )
