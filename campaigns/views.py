"""Browser pages: dashboard, campaign list and detail, CSV import, lifecycle buttons.

Every page reads through access_for_request: a user sees only the program chosen in
their session, another program's campaign answers 404 and a viewer's POST answers 403.
The wizard lives in campaigns/wizard.py.
"""

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldError, PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from campaigns import imports, lifecycle, selectors
from campaigns.access import (
    SESSION_PROGRAM_KEY,
    Need,
    access_required,
    allows,
    campaign_for,
    require,
)
from campaigns.forms import BeneficiaryImportForm, CampaignFilterForm, ProgramSwitchForm
from campaigns.models import Campaign, CampaignType, Dpi, Membership
from campaigns.phones import mask_phone
from campaigns.services import quota_balance
from cards.models import Card

BENEFICIARIES_SHOWN = 50
CAMPAIGNS_PER_PAGE = 25
RECENT_CAMPAIGNS = 5


def program_access(request):
    """The caller's Access; a user with no membership has nothing to see here."""
    return access_required(request)


def writer_access(request):
    return require(access_required(request), Need.WRITE)


def render_page(request, template, context=None):
    """render() plus what the header needs: the programs this user may switch to."""
    memberships = list(
        Membership.objects.filter(user=request.user)
        .select_related("program")
        .order_by("program__name")
    )
    page = {"memberships": memberships if len(memberships) > 1 else []}
    page.update(context or {})
    return render(request, template, page)




def _cards_distributed(program):
    """Cards that reached someone. Distribution ships in a later issue: until its Message
    model exists (or if its fields differ) the dashboard shows 0 instead of failing."""
    try:
        message_model = apps.get_model("distribution", "Message")
    except LookupError:
        return 0
    try:
        return (
            message_model.objects.filter(
                beneficiary__campaign__program=program,
                status__in=["sent", "delivered", "read"],
            )
            .values("card_id")
            .distinct()
            .count()
        )
    except (FieldError, ValueError):
        return 0


@login_required
def dashboard(request):
    access = program_access(request)
    campaigns = Campaign.objects.for_program(access.program).alive()
    context = {
        "kpis": {
            "campaigns": campaigns.count(),
            "in_progress": campaigns.filter(status=Campaign.Status.GENERATING).count(),
            "completed": campaigns.filter(status=Campaign.Status.COMPLETED).count(),
            "cards_distributed": _cards_distributed(access.program),
        },
        "quota_balance": quota_balance(program=access.program),
        "recent_campaigns": campaigns.filter(archived_at__isnull=True)[:RECENT_CAMPAIGNS],
    }
    return render_page(request, "campaigns/dashboard.html", context)


@login_required
def campaign_list(request):
    access = program_access(request)
    filter_form = CampaignFilterForm(data=request.GET)
    filters = filter_form.filters()
    page = filters.pop("page") or 1
    params = {
        "q": filters["q"],
        "status": [filters["status"]] if filters["status"] else [],
        "campaign_type": [filters["campaign_type"]] if filters["campaign_type"] else [],
        # The selector speaks the API's words: archived=false (default), true or all.
        "archived": filters["archived"] or "false",
        "limit": CAMPAIGNS_PER_PAGE,
        "offset": (page - 1) * CAMPAIGNS_PER_PAGE,
    }
    campaigns, meta, _query = selectors.campaign_list(program=access.program, params=params)
    context = {
        "filter_form": filter_form,
        "campaigns": campaigns,
        "total": meta["total"],
        "is_filtered": any(filters.values()),
        "page": page,
        "previous_page_query": _page_query(request, page - 1) if page > 1 else None,
        "next_page_query": _page_query(request, page + 1)
        if meta["offset"] + len(campaigns) < meta["total"]
        else None,
    }
    return render_page(request, "campaigns/campaign_list.html", context)


def _page_query(request, page):
    query = request.GET.copy()
    query["page"] = page
    return query.urlencode()


def _detail_context(access, campaign):
    may_see_people = allows(access, Need.PEOPLE, campaign)
    beneficiaries = []
    if may_see_people:
        people = list(campaign.beneficiaries.all()[:BENEFICIARIES_SHOWN])
        latest_cards = {}
        # One query: each shown person's newest card (ordered by id, the last one wins).
        for card in Card.objects.filter(beneficiary__in=people).order_by("id"):
            latest_cards[card.beneficiary_id] = card
        beneficiaries = [
            {"person": b, "phone": mask_phone(b.phone), "card": latest_cards.get(b.pk)}
            for b in people
        ]
    metrics = selectors.campaign_metrics(campaign=campaign)
    return {
        "campaign": campaign,
        "template_label": CampaignType(campaign.template_id).label
        if campaign.template_id in CampaignType.values
        else campaign.template_id,
        "readiness": selectors.campaign_readiness(campaign=campaign, metrics=metrics),
        "metrics": metrics,
        "beneficiaries": beneficiaries,
        "beneficiaries_shown": BENEFICIARIES_SHOWN,
        "may_see_people": may_see_people,
        "import_form": BeneficiaryImportForm(),
        "dpi_choices": Dpi.choices,
    }


@login_required
@require_safe
def campaign_detail(request, pk):
    access = program_access(request)
    campaign = campaign_for(access, pk, Need.READ)
    return render_page(request, "campaigns/campaign_detail.html", _detail_context(access, campaign))


@login_required
@require_POST
def campaign_import(request, pk):
    access = program_access(request)
    campaign = campaign_for(access, pk, Need.WRITE)
    form = BeneficiaryImportForm(data=request.POST, files=request.FILES)
    import_errors = []
    if form.is_valid():
        try:
            result = imports.beneficiaries_import(
                campaign=campaign, csv_file=form.cleaned_data["file"]
            )
        except imports.ImportTooLarge as exc:
            form.add_error("file", exc.message)
        except imports.ImportRejected as exc:
            import_errors = exc.errors
        else:
            messages.success(request, _import_summary(result))
            return redirect("campaign-detail", pk=campaign.pk)
    context = _detail_context(access, campaign)
    context.update({"import_form": form, "import_errors": import_errors})
    return render_page(request, "campaigns/campaign_detail.html", context)


def _import_summary(result):
    created = ngettext(
        "%(count)s beneficiary added", "%(count)s beneficiaries added", result.created
    ) % {"count": result.created}
    if not result.updated:
        return created + "."
    updated = ngettext(
        "%(count)s beneficiary updated", "%(count)s beneficiaries updated", result.updated
    ) % {"count": result.updated}
    return f"{created}, {updated}."


@login_required
@require_POST
def campaign_archive(request, pk):
    access = program_access(request)
    campaign = campaign_for(access, pk, Need.WRITE)
    lifecycle.campaign_archive(campaign=campaign)
    messages.success(request, _("Campaign “%(name)s” archived.") % {"name": campaign.name})
    return redirect("campaign-detail", pk=campaign.pk)


@login_required
@require_POST
def campaign_unarchive(request, pk):
    access = program_access(request)
    campaign = campaign_for(access, pk, Need.WRITE)
    lifecycle.campaign_unarchive(campaign=campaign)
    messages.success(request, _("Campaign “%(name)s” is active again.") % {"name": campaign.name})
    return redirect("campaign-detail", pk=campaign.pk)


@login_required
@require_POST
def campaign_delete(request, pk):
    access = program_access(request)
    campaign = campaign_for(access, pk, Need.WRITE)
    try:
        lifecycle.campaign_soft_delete(campaign=campaign)
    except lifecycle.CampaignConflict as exc:
        messages.error(request, str(exc))
        return redirect("campaign-detail", pk=campaign.pk)
    messages.success(request, _("Campaign “%(name)s” deleted.") % {"name": campaign.name})
    return redirect("campaign-list")


@login_required
@require_POST
def program_switch(request):
    memberships = Membership.objects.filter(user=request.user).select_related("program")
    form = ProgramSwitchForm(data=request.POST, memberships=memberships)
    if not form.is_valid():
        raise PermissionDenied(_("You are not a member of this program."))
    request.session[SESSION_PROGRAM_KEY] = form.cleaned_data["program_id"]
    # The dashboard, not the page we came from: that page may belong to the old program.
    return redirect("dashboard")
