"""Pages for generation jobs: start one from the campaign page, follow it live."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaigns.access import access_for_request
from campaigns.models import Campaign, Dpi, Job
from campaigns.services import QuotaExceeded, quota_cost
from cards import generation
from cards.events import job_snapshot


def _access(request):
    access = access_for_request(request)
    if access is None:
        raise Http404
    return access


@login_required
@require_POST
def job_start(request, pk):
    access = _access(request)
    campaign = get_object_or_404(Campaign.objects.for_program(access.program).alive(), pk=pk)
    if not access.can_write or not generation.can_generate_for(access=access, campaign=campaign):
        raise PermissionDenied
    dpi = request.POST.get("dpi") or campaign.dpi
    try:
        job = generation.job_create(
            campaign=campaign,
            user=request.user,
            dpi=int(dpi) if str(dpi).isdigit() and int(dpi) in Dpi.values else campaign.dpi,
            include_mpi_id=request.POST.get("include_mpi_id") == "on",
        )
    except QuotaExceeded as exc:
        messages.error(
            request,
            _("Not enough quota: this job needs %(needed)s units, the program has %(available)s.")
            % {"needed": exc.needed, "available": exc.available},
        )
    except generation.JobConflict:
        messages.error(request, _("A generation job is already running for this campaign."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        return redirect("job-detail", pk=job.pk)
    return redirect("campaign-detail", pk=campaign.pk)


@login_required
def job_detail(request, pk):
    access = _access(request)
    job = get_object_or_404(
        Job.objects.for_program(access.program).select_related("campaign"), pk=pk
    )
    return render(
        request,
        "cards/job_detail.html",
        {
            "job": job,
            "campaign": job.campaign,
            "snapshot": job_snapshot(job),
            "quota_units": quota_cost(cards=job.total_cards, dpi=job.dpi),
            "can_cancel": access.can_write and not job.is_final,
        },
    )


@login_required
@require_POST
def job_cancel(request, pk):
    access = _access(request)
    job = get_object_or_404(Job.objects.for_program(access.program), pk=pk)
    if not access.can_write:
        raise PermissionDenied
    if not job.is_final:
        generation.job_cancel(job=job)
        messages.success(request, _("The job was cancelled and its quota refunded."))
    return redirect("job-detail", pk=job.pk)
