"""Back-office for the DHIS2 integration, read-only: which program talks to which DHIS2 (never
its credentials), each campaign's link, and the sync history with counts, duration and
errors. Settings change through the API or the DHIS2 pages, which check them; syncs start
from the campaign's DHIS2 page."""

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy

from campaigns.admin_scope import ProgramScopedAdmin, may_see_sensitive
from campaigns.dhis2.models import CampaignDhis2Link, Dhis2Connection, Dhis2SyncRun, Dhis2SyncSkip

SKIPS_SHOWN = 50


class ReadOnlyAdmin(ProgramScopedAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Dhis2Connection)
class Dhis2ConnectionAdmin(ReadOnlyAdmin):
    list_display = ("program", "base_url", "enabled", "updated_at")
    list_filter = ("enabled",)
    search_fields = ("program__name", "program__slug", "base_url")
    list_select_related = ("program",)
    fields = ("program", "base_url", "enabled", "updated_at")


@admin.register(CampaignDhis2Link)
class CampaignDhis2LinkAdmin(ReadOnlyAdmin):
    program_field = "campaign__program"
    campaign_field = "campaign"
    list_display = ("campaign", "program_uid", "org_unit_uid", "updated_at")
    search_fields = ("campaign__name", "campaign__prefix", "program_uid", "org_unit_uid")
    list_select_related = ("campaign",)
    fields = ("campaign", "program_uid", "org_unit_uid", "mapping", "labels", "updated_at")


@admin.register(Dhis2SyncRun)
class Dhis2SyncRunAdmin(ReadOnlyAdmin):
    program_field = "campaign__program"
    campaign_field = "campaign"
    list_display = (
        "pk", "campaign", "status", "full", "created_by", "started_at", "duration",
        "created_count", "updated_count", "unchanged_count", "skipped_count", "short_error",
    )
    list_filter = ("status", "full", ("campaign__program", admin.RelatedOnlyFieldListFilter))
    search_fields = ("campaign__name", "campaign__prefix", "error")
    list_select_related = ("campaign", "created_by")
    date_hierarchy = "created_at"
    fields = (
        "campaign", "status", "full", "created_by", "created_at", "started_at", "finished_at",
        "duration", "updated_after", "updated_before", "page_size", "pages_done", "page_count",
        "total", "created_count", "updated_count", "unchanged_count", "skipped_count", "error",
        "first_skips",
    )

    @admin.display(description=gettext_lazy("Duration"))
    def duration(self, run):
        if not (run.started_at and run.finished_at):
            return "—"
        seconds = int((run.finished_at - run.started_at).total_seconds())
        return f"{seconds // 60} min {seconds % 60:02d} s"

    def get_fields(self, request, obj=None):
        # Skipped entities name people in DHIS2: a sensitive campaign's need the grant.
        if obj is not None and obj.campaign.is_sensitive and not may_see_sensitive(
            request, obj.campaign.program_id
        ):
            return tuple(f for f in self.fields if f != "first_skips")
        return self.fields

    @admin.display(description=gettext_lazy("First skipped entities"))
    def first_skips(self, run):
        # The full list is the run's CSV (errors_url); thousands of rows would stall this page.
        rows = run.skips.order_by("id")[:SKIPS_SHOWN]
        return format_html(
            "<table>{}</table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
                (skip.page, skip.tracked_entity, skip.field, skip.reason_text())
                for skip in rows
            )),
        ) if rows else "—"

    @admin.display(description=gettext_lazy("Error"))
    def short_error(self, run):
        return (run.error[:80] + "…") if len(run.error) > 80 else run.error


@admin.register(Dhis2SyncSkip)
class Dhis2SyncSkipAdmin(ReadOnlyAdmin):
    """Each row is a person's DHIS2 tracked entity: a sensitive campaign's need the grant."""

    program_field = "run__campaign__program"
    campaign_field = "run__campaign"
    names_people = True
    list_display = ("run", "page", "tracked_entity", "enrollment", "field", "reason_shown")
    list_filter = ("field",)
    search_fields = ("=tracked_entity", "=enrollment", "=run__id")
    list_select_related = ("run",)
    show_full_result_count = False
    fields = ("run", "page", "tracked_entity", "enrollment", "field", "attribute",
              "reason_shown")

    @admin.display(description=gettext_lazy("Reason"))
    def reason_shown(self, skip):
        # In the viewer's language, whatever the language of whoever started the run.
        return skip.reason_text()
