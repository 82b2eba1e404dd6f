"""Back-office for providers, dispatches and the send log, scoped like every admin
(campaigns/admin_scope.py)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from campaigns.admin_scope import ProgramScopedAdmin
from campaigns.models import Role
from distribution.models import Dispatch, Message, ProviderIntegration
from distribution.providers.error_labels import error_detail_text, error_label


@admin.register(ProviderIntegration)
class ProviderIntegrationAdmin(ProgramScopedAdmin):
    """Support sees which of their programs have which provider and whether it is on; never the
    secrets (they are edited through the API or the program's settings page, which validate
    them). Turning one on or off is a program setting: admins only, as in the API."""

    write_roles = (Role.ADMIN,)
    list_display = ("program", "channel", "enabled", "account_id", "updated_at")
    list_filter = ("channel", "enabled", ("program", admin.RelatedOnlyFieldListFilter))
    search_fields = ("program__name", "program__slug", "account_id")
    fields = ("program", "channel", "enabled", "account_id", "updated_at")
    readonly_fields = ("program", "channel", "account_id", "updated_at")

    def has_add_permission(self, request):
        return False


@admin.register(Dispatch)
class DispatchAdmin(ProgramScopedAdmin):
    """Support follows runs here (counters, why one paused); operators control them on the
    campaign's distribution page, which goes through the services."""

    program_field = "campaign__program"
    campaign_field = "campaign"
    list_display = ("id", "campaign", "status", "first_channel", "fallback_channel",
                    "rate_limit_per_second", "pause_reason", "created_at")
    list_filter = ("status", "first_channel")
    search_fields = ("campaign__name", "campaign__prefix")
    readonly_fields = [f.name for f in Dispatch._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(ProgramScopedAdmin):
    """The send log, read only: masked numbers, never a name (no beneficiary link shown). A
    message still reaches a person (card, number): a sensitive campaign's need the grant."""

    campaign_field = "campaign"
    names_people = True

    list_display = ("id", "created_at", "channel", "attempt", "status", "recipient",
                    "error", "dispatch_id")
    list_filter = ("channel", "status")
    search_fields = ("provider_message_id", "idempotency_key", "card__code")
    fields = ("program", "campaign", "dispatch", "card", "channel", "attempt", "status",
              "recipient", "provider_message_id", "error_code", "detail",
              "idempotency_key", "created_at", "sent_at", "delivered_at", "read_at", "failed_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("campaign", "card")

    @admin.display(description=_("Error"), ordering="error_code")
    def error(self, message):
        return error_label(message.error_code)

    @admin.display(description=_("Error detail"))
    def detail(self, message):
        # Our own details in the viewer's language; a provider's as it came.
        return error_detail_text(message.error_detail)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
