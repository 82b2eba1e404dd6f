"""Pages for generation jobs (start one from the campaign page, follow it live) and the
Card Studio page (a campaign's card design with its rendered preview)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from campaigns.access import access_for_request
from campaigns.lifecycle import CampaignConflict
from campaigns.models import Campaign, Dpi, Job
from campaigns.services import QuotaExceeded, quota_cost
from campaigns.views import program_access, render_page
from cards import generation, previews, studio, studio_services
from cards.events import job_snapshot
from cards.forms import CardDesignForm, ProgramLogoForm


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


# -- Card Studio: a campaign's card design, the program's logo, template samples -----------

DESIGN_ACTIONS = ("preview", "save", "validate")


def _design_campaign(access, pk):
    return get_object_or_404(
        Campaign.objects.for_program(access.program).alive().select_related("program"), pk=pk
    )


def _render_design(request, access, campaign, *, form=None, logo_form=None):
    form = form or CardDesignForm(initial=CardDesignForm.initial_for(campaign), campaign=campaign)
    unsaved = form.is_bound and form.is_valid()
    if unsaved:
        unsaved = form.template_options() != (campaign.template_options or {}) or (
            form.cleaned_data["template_id"] != studio.template_for_campaign(campaign)
        )
    preview_url = previews.campaign_preview_url(
        campaign, form.preview_params() if unsaved else None
    )
    context = {
        "campaign": campaign,
        "form": form,
        "logo_form": logo_form or ProgramLogoForm(),
        "program": campaign.program,
        "preview_url": preview_url,
        "unsaved": unsaved,
        "can_write": access.can_write,
        "is_admin": access.is_admin,
    }
    return render_page(request, "cards/design.html", context)


def _design_errors_on_form(form, exc):
    for key, messages_ in exc.message_dict.items():
        # Card Studio names the option at fault, as the form names its field.
        field = key if key in form.fields else None
        for message in messages_:
            form.add_error(field, message)


@login_required
@require_http_methods(["GET", "POST"])
def campaign_design(request, pk):
    """The Card Studio page. Works without JavaScript: "Preview" re-renders the page with
    the unsaved choices; design.js refreshes the preview image as the operator changes them."""
    access = program_access(request)
    campaign = _design_campaign(access, pk)
    if request.method == "GET":
        return _render_design(request, access, campaign)
    action = request.POST.get("action", "preview")
    if action not in DESIGN_ACTIONS:
        action = "preview"
    if action != "preview" and not access.can_write:
        raise PermissionDenied(_("Your role lets you read this program's data, not change it."))
    form = CardDesignForm(data=request.POST, campaign=campaign)
    if not form.is_valid() or action == "preview":
        return _render_design(request, access, campaign, form=form)
    try:
        campaign = studio_services.campaign_design_update(
            campaign=campaign,
            template_id=form.cleaned_data["template_id"],
            template_options=form.template_options(),
        )
        if action == "validate":
            campaign = studio_services.campaign_design_validate(campaign=campaign)
    except ValidationError as exc:
        _design_errors_on_form(form, exc)
        return _render_design(request, access, _design_campaign(access, pk), form=form)
    except CampaignConflict as exc:
        messages.error(request, str(exc))
        return redirect("campaign-design", pk=campaign.pk)
    if action == "validate":
        messages.success(
            request, _("The card design is validated: the campaign is ready for generation.")
        )
        return redirect("campaign-detail", pk=campaign.pk)
    messages.success(request, _("The card design was saved."))
    return redirect("campaign-design", pk=campaign.pk)


@login_required
@require_POST
def program_logo_upload(request, pk):
    """Program admins only: the logo prints on every campaign's cards."""
    access = program_access(request)
    campaign = _design_campaign(access, pk)
    if not access.is_admin:
        raise PermissionDenied(_("Only a program admin can change the program's logo."))
    logo_form = ProgramLogoForm(data=request.POST, files=request.FILES)
    if logo_form.is_valid():
        try:
            studio_services.program_logo_set(
                program=access.program, image_file=logo_form.cleaned_data["logo"]
            )
        except ValidationError as exc:
            for message in exc.message_dict.get("logo", exc.messages):
                logo_form.add_error("logo", message)
        else:
            messages.success(request, _("The program's logo was updated."))
            return redirect("campaign-design", pk=campaign.pk)
    return _render_design(request, access, campaign, logo_form=logo_form)


@login_required
def template_preview(request, template_id):
    """A small PNG of a template's sample card front, for the wizard's template step."""
    if template_id not in studio.TEMPLATES:
        raise Http404
    png, key = previews.template_sample(
        template_id=template_id, language=request.GET.get("lang", "fr")
    )
    return previews.png_response(request, png, key)
