"""Pages for generation jobs (start one from the campaign page, follow it live) and the
Card Studio page (a campaign's card design with its rendered preview). Every campaign and job
is reached through the access seam (campaigns.access), saying what the page needs."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from campaignid.files import file_response
from campaigns import studio
from campaigns.access import Need, access_required, allows, campaign_for, object_for, require
from campaigns.lifecycle import CampaignConflict
from campaigns.models import Dpi, Job
from campaigns.services import QuotaExceeded, quota_cost
from campaigns.views import render_page
from cards import generation, previews, studio_services
from cards.events import job_snapshot
from cards.forms import CardDesignForm, ProgramLogoForm
from cards.rendering.errors import PreviewBusy
from cards.rendering.sample import SAMPLE_ISSUED_ON, sample_expiry


@login_required
@require_POST
def job_start(request, pk):
    """The generation form (everyone without a valid card) and the "Reissue" buttons of the
    beneficiary list (`reissue` with `beneficiaries`)."""
    campaign = campaign_for(access_required(request), pk, Need.WRITE)
    dpi = request.POST.get("dpi") or campaign.dpi
    reissue = request.POST.get("reissue") == "1"
    ids = [v for v in request.POST.getlist("beneficiaries") if v.isdigit()]
    try:
        job = generation.job_create(
            campaign=campaign,
            user=request.user,
            dpi=int(dpi) if str(dpi).isdigit() and int(dpi) in Dpi.values else campaign.dpi,
            include_mpi_id=None,  # the campaign's design decides (campaigns.studio.prints_mpi_id)
            beneficiary_ids=ids if reissue or ids else None,
            reissue=reissue,
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
        if job.skipped_valid_card:
            messages.info(request, ngettext(
                "%(n)s beneficiary already holds a valid card and was left out (not charged).",
                "%(n)s beneficiaries already hold a valid card and were left out (not charged).",
                job.skipped_valid_card,
            ) % {"n": job.skipped_valid_card})
        return redirect("job-detail", pk=job.pk)
    return redirect("campaign-detail", pk=campaign.pk)


@login_required
def job_detail(request, pk):
    access = access_required(request)
    # The page offers the cards and the manifest of names: it needs what they need.
    job = object_for(access, Job.objects.all(), Need.PEOPLE, pk=pk)
    return render(
        request,
        "cards/job_detail.html",
        {
            "job": job,
            "campaign": job.campaign,
            "snapshot": job_snapshot(job),
            "quota_units": quota_cost(cards=job.total_cards, dpi=job.dpi),
            "can_cancel": allows(access, Need.WRITE, job.campaign) and not job.is_final,
        },
    )


@login_required
@require_POST
def job_cancel(request, pk):
    job = object_for(access_required(request), Job.objects.all(), Need.WRITE, pk=pk)
    if not job.is_final:
        generation.job_cancel(job=job)
        messages.success(request, _("The job was cancelled and its quota refunded."))
    return redirect("job-detail", pk=job.pk)


# -- Card Studio: a campaign's card design, the program's logo, template samples -----------

DESIGN_ACTIONS = ("preview", "save", "validate")


def _design_campaign(access, pk, need=Need.READ):
    """A design and its sample preview name nobody: reading them is the campaign's record."""
    return campaign_for(access, pk, need)


def _render_design(request, access, campaign, *, form=None, logo_form=None):
    form = form or CardDesignForm(initial=CardDesignForm.initial_for(campaign), campaign=campaign)
    unsaved = form.is_bound and form.is_valid()
    if unsaved:
        unsaved = form.template_options() != (campaign.template_options or {}) or (
            form.cleaned_data["template_id"] != studio.template_for_campaign(campaign)
        ) or form.cleaned_data["card_validity_months"] != campaign.card_validity_months
    preview_url = previews.campaign_preview_url(
        campaign, form.preview_params() if unsaved else None
    )
    # The preview's "Expire le" row: the validity asked for (unsaved) or saved; none when the
    # cards do not expire or the row is not chosen (cards.rendering.rows.printed_rows).
    if unsaved:
        validity = form.cleaned_data["card_validity_months"]
        shown = form.cleaned_data["show_fields"]
    else:
        validity = campaign.card_validity_months
        shown = CardDesignForm.initial_for(campaign)["show_fields"]
    sample_expires_on = (
        sample_expiry(SAMPLE_ISSUED_ON, validity) if "expiry" in shown else None
    )
    context = {
        "campaign": campaign,
        "form": form,
        "logo_form": logo_form or ProgramLogoForm(),
        "program": campaign.program,
        "preview_url": preview_url,
        "unsaved": unsaved,
        "card_validity_months": validity,
        "sample_expires_on": sample_expires_on,
        "can_write": allows(access, Need.WRITE, campaign),
        "is_admin": allows(access, Need.ADMIN),
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
    access = access_required(request)
    action = request.POST.get("action", "preview") if request.method == "POST" else "preview"
    if action not in DESIGN_ACTIONS:
        action = "preview"
    campaign = _design_campaign(access, pk, Need.READ if action == "preview" else Need.WRITE)
    if request.method == "GET":
        return _render_design(request, access, campaign)
    form = CardDesignForm(data=request.POST, campaign=campaign)
    if not form.is_valid() or action == "preview":
        return _render_design(request, access, campaign, form=form)
    try:
        campaign = studio_services.campaign_design_update(
            campaign=campaign,
            template_id=form.cleaned_data["template_id"],
            template_options=form.template_options(),
            card_validity_months=form.cleaned_data["card_validity_months"],
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
    access = access_required(request)
    campaign = _design_campaign(access, pk)
    require(access, Need.ADMIN)
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
    try:
        png, key = previews.template_sample(
            template_id=template_id, language=request.GET.get("lang", "fr")
        )
    except PreviewBusy as exc:
        return HttpResponse(str(exc), status=503, content_type="text/plain; charset=utf-8",
                            headers={"Retry-After": str(exc.retry_after)})
    return previews.png_response(request, png, key)


# Logos are stored re-encoded as PNG (campaigns/logos.py); a file stored before that rule is
# only offered as a download, never rendered by the browser under our origin.
LOGO_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg"}


@login_required
def program_logo(request, pk):
    """The program's logo, for its members only (who runs which program is not public)."""
    access = access_required(request)
    logo = access.program.logo
    if access.program.pk != pk or not logo:
        raise Http404(_("This program has no logo."))
    content_type = LOGO_TYPES.get(logo.name.rsplit(".", 1)[-1].lower())
    return file_response(
        logo, content_type=content_type or "application/octet-stream",
        as_attachment=content_type is None,
    )
