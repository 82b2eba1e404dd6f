from django.contrib import admin

from distribution.models import ProviderIntegration


@admin.register(ProviderIntegration)
class ProviderIntegrationAdmin(admin.ModelAdmin):
    """Support sees which programs have which provider and whether it is on; never the secrets
    (they are edited through the API or the program's settings page, which validate them)."""

    list_display = ("program", "channel", "enabled", "account_id", "updated_at")
    list_filter = ("channel", "enabled")
    search_fields = ("program__name", "program__slug", "account_id")
    fields = ("program", "channel", "enabled", "account_id", "updated_at")
    readonly_fields = ("program", "channel", "account_id", "updated_at")

    def has_add_permission(self, request):
        return False
