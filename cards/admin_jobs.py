"""Back-office for generation jobs and their chunks: read, and cancelled through the
generation service (rows scoped like the campaigns', campaigns/admin_scope.py)."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy, ngettext

from campaigns.access import Need, access_for_user, allows
from campaigns.admin_scope import ProgramScopedAdmin
from campaigns.models import Job, JobChunk
from cards.generation import job_cancel


class JobChunkInline(admin.TabularInline):
    model = JobChunk
    extra = 0
    fields = ("index", "first_card", "card_count", "attempts", "finished_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# Every job file names or reaches the card holders (the manifest lists their names): the admin
# links to the checked download view, and only for whom the access seam lets download them.
JOB_FILES = {
    "pdf": gettext_lazy("Print PDF"),
    "zip": gettext_lazy("PNG images (ZIP)"),
    "manifest": gettext_lazy("Manifest (JSON)"),
    "portal": gettext_lazy("Offline verification portal (ZIP)"),
}


def may_download_job_files(request, job):
    access = access_for_user(request.user, job.campaign.program_id)
    return (
        access is not None
        and access.program.pk == job.campaign.program_id
        and job.campaign.deleted_at is None
        and allows(access, Need.PEOPLE, job.campaign)
    )


@admin.register(Job)
class JobAdmin(ProgramScopedAdmin):
    """Jobs move through their states in the generation workers; here they are read, and
    cancelled through the generation service."""

    program_field = "campaign__program"
    campaign_field = "campaign"
    list_display = (
        "id", "campaign", "status", "dpi", "total_cards", "cards_generated", "progress",
        "created_at", "finished_at",
    )
    list_filter = ("status", "dpi", ("campaign__program", admin.RelatedOnlyFieldListFilter))
    search_fields = ("=id", "campaign__name", "campaign__prefix")
    list_select_related = ("campaign",)
    date_hierarchy = "created_at"
    inlines = (JobChunkInline,)
    actions = ("cancel_jobs",)
    job_fields = (
        "campaign", "status", "dpi", "include_mpi_id", "total_cards", "cards_generated",
        "progress", "eta_seconds", "error", "files", "created_by", "created_at", "started_at",
        "finished_at",
    )

    def get_fields(self, request, obj=None):
        if obj is not None and not may_download_job_files(request, obj):
            return [name for name in self.job_fields if name != "files"]
        return list(self.job_fields)

    @admin.display(description=gettext_lazy("Files"))
    def files(self, job):
        links = [
            (reverse("api-job-download", kwargs={"pk": job.pk, "artifact": kind}), label)
            for kind, label in JOB_FILES.items()
            if getattr(job, kind)
        ]
        return format_html_join(" · ", '<a href="{}">{}</a>', links) if links else "-"

    def get_readonly_fields(self, request, obj=None):
        return self.job_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Nothing is edited by hand; "change" only grants the cancel action.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=gettext_lazy("Cancel the selected jobs"), permissions=["change"])
    def cancel_jobs(self, request, queryset):
        jobs = [job for job in self.writable(request, queryset) if not job.is_final]
        for job in jobs:
            job_cancel(job=job)
        self.message_user(
            request,
            ngettext("%(n)d job cancelled.", "%(n)d jobs cancelled.", len(jobs)) % {"n": len(jobs)},
        )


@admin.register(JobChunk)
class JobChunkAdmin(ProgramScopedAdmin):
    program_field = "job__campaign__program"
    list_display = ("job", "index", "first_card", "card_count", "attempts", "finished_at")
    list_filter = (("job__campaign__program", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("=job__id",)
    list_select_related = ("job",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
