"""Browser pages: dashboard, campaign list and detail, CSV import, lifecycle buttons.

Every page reads through access_for_request: a user sees only the program chosen in
their session, another program's campaign answers 404 and a viewer's POST answers 403.
The wizard lives in campaigns/wizard.py.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.utils.formats import number_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from campaigns import import_template, imports, lifecycle, readiness, selectors
from campaigns.access import (
    SESSION_PROGRAM_KEY,
    Need,
    access_required,
    allows,
    campaign_for,
    require,
)
from campaigns.beneficiary_search import beneficiary_page
from campaigns.forms import (
    BeneficiaryFilterForm,
    BeneficiaryImportForm,
    CampaignDuplicateForm,
    CampaignFilterForm,
    ProgramSwitchForm,
)
from campaigns.models import Campaign, CampaignType, Dpi, Membership
from campaigns.phones import mask_phone
from campaigns.services import quota_balance
from campaigns.studio import prints_mpi_id

BENEFICIARIES_SHOWN = 50
CAMPAIGNS_PER_PAGE = 25
RECENT_CAMPAIGNS = 5
LEDGER_ROWS_PER_PAGE = 50


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




@login_required
def dashboard(request):
    access = program_access(request)
    campaigns = Campaign.objects.for_program(access.program).alive()
    context = {
        "kpis": {
            "campaigns": campaigns.count(),
            "in_progress": campaigns.filter(status=Campaign.Status.GENERATING).count(),
            "completed": campaigns.filter(status=Campaign.Status.COMPLETED).count(),
        },
        "figures": selectors.dashboard_figures(program=access.program),
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
    sort_field, sort_dir = CampaignFilterForm.SORTS[filters["sort"]]
    # The selector speaks the API's words, so the export link carries the same filters.
    api_filters = {
        "q": filters["q"],
        "status": filters["status"],
        "campaign_type": filters["campaign_type"],
        # archived=false (default), true or all; the trash shows deleted ones, archived or not.
        "archived": "all" if filters["trash"] else filters["archived"] or "false",
        "only_deleted": "true" if filters["trash"] else "",
        "date_from": filters["date_from"],
        "date_to": filters["date_to"],
        "sort_field": sort_field,
        "sort_dir": sort_dir,
    }
    params = {
        **api_filters,
        "status": [filters["status"]] if filters["status"] else [],
        "campaign_type": [filters["campaign_type"]] if filters["campaign_type"] else [],
        "only_deleted": bool(filters["trash"]),
        "date_from": filters["date_from"] or None,
        "date_to": filters["date_to"] or None,
        "limit": CAMPAIGNS_PER_PAGE,
        "offset": (page - 1) * CAMPAIGNS_PER_PAGE,
    }
    campaigns, meta, _query = selectors.campaign_list(program=access.program, params=params)
    context = {
        "filter_form": filter_form,
        "campaigns": campaigns,
        "total": meta["total"],
        "in_trash": filters["trash"],
        "export_query": urlencode({k: v for k, v in api_filters.items() if v}),
        "is_filtered": any(v for k, v in filters.items() if k not in ("sort", "trash")),
        **pager(request.GET, page, has_next=meta["offset"] + len(campaigns) < meta["total"]),
    }
    return render_page(request, "campaigns/campaign_list.html", context)


def pager(query, page, *, has_next):
    """What templates/campaigns/includes/pager.html needs: the page and its neighbours' queries
    (the same filters, another page)."""
    return {
        "page": page,
        "previous_page_query": _page_query(query, page - 1) if page > 1 else None,
        "next_page_query": _page_query(query, page + 1) if has_next else None,
    }


def _page_query(query, page):
    query = query.copy()
    query["page"] = page
    return query.urlencode()


def _beneficiary_list(campaign, query):
    """The campaign page's searchable, paged beneficiary list (GET `query`)."""
    form = BeneficiaryFilterForm(data=query, auto_id="beneficiary-%s")
    filters = form.filters()
    rows, total, page = beneficiary_page(
        campaign=campaign, filters=filters, page=filters["page"], page_size=BENEFICIARIES_SHOWN
    )
    return {
        "beneficiary_filter": form,
        "beneficiaries": [
            {"person": person, "phone": mask_phone(person.phone), **values}
            for person, values in rows
        ],
        # Cards of unfinished jobs count: they were printed and need the portal too.
        "campaign_has_cards": campaign.cards.exists(),
        "beneficiaries_total": total,
        "beneficiaries_page": page,
        "beneficiaries_pages": max(1, -(-total // BENEFICIARIES_SHOWN)),
        "beneficiaries_filtered": any(filters[name] for name in form.filter_names()),
        "beneficiaries_previous": _page_query(query, page - 1) if page > 1 else None,
        "beneficiaries_next": _page_query(query, page + 1)
        if page * BENEFICIARIES_SHOWN < total
        else None,
    }


def _detail_context(access, campaign, query=None):
    may_see_people = allows(access, Need.PEOPLE, campaign)
    beneficiary_list = {"beneficiaries": []}
    if may_see_people:
        beneficiary_list = _beneficiary_list(campaign, query if query is not None else QueryDict())
    metrics = selectors.campaign_metrics(campaign=campaign)
    return {
        "campaign": campaign,
        "template_label": CampaignType(campaign.template_id).label
        if campaign.template_id in CampaignType.values
        else campaign.template_id,
        "readiness": readiness.campaign_readiness(campaign=campaign, metrics=metrics),
        "metrics": metrics,
        **beneficiary_list,
        "beneficiaries_shown": BENEFICIARIES_SHOWN,
        "may_see_people": may_see_people,
        "import_form": BeneficiaryImportForm(),
        "import_columns": import_template.template_columns(campaign),
        "dpi_choices": Dpi.choices,
        # The MPI-ID choice is the card design's; the generation form only says it.
        "prints_mpi_id": prints_mpi_id(campaign),
    }


@login_required
@require_safe
def campaign_detail(request, pk):
    access = program_access(request)
    campaign = campaign_for(access, pk, Need.READ)
    return render_page(
        request, "campaigns/campaign_detail.html", _detail_context(access, campaign, request.GET)
    )


@login_required
@require_safe
def campaign_import_template(request, pk):
    """The CSV template of this campaign's import; it holds no person."""
    campaign = campaign_for(program_access(request), pk, Need.READ)
    return import_template.import_template_response(campaign)


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
    ) % {"count": number_format(result.created, force_grouping=True)}
    if not result.updated:
        return created + "."
    updated = ngettext(
        "%(count)s beneficiary updated", "%(count)s beneficiaries updated", result.updated
    ) % {"count": number_format(result.updated, force_grouping=True)}
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
def campaign_restore(request, pk):
    access = program_access(request)
    campaign = campaign_for(access, pk, Need.WRITE, deleted=True)
    lifecycle.campaign_restore(campaign=campaign)
    messages.success(request, _("Campaign “%(name)s” restored.") % {"name": campaign.name})
    return redirect("campaign-detail", pk=campaign.pk)


@login_required
def campaign_duplicate(request, pk):
    """A form asking for the copy's prefix (and name); the copy opens on success."""
    access = program_access(request)
    campaign = campaign_for(access, pk, Need.WRITE)
    form = CampaignDuplicateForm(data=request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            copy = lifecycle.campaign_duplicate(
                campaign=campaign, user=request.user, prefix=form.cleaned_data["prefix"],
                name=form.cleaned_data["name"] or None,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Campaign “%(name)s” created.") % {"name": copy.name})
            return redirect("campaign-detail", pk=copy.pk)
    return render_page(
        request, "campaigns/campaign_duplicate.html", {"campaign": campaign, "form": form}
    )


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


@login_required
@require_safe
def quota_ledger(request):
    """Every grant, debit and refund of the program, newest first, with the running balance;
    any member may read it (it names campaigns, never people)."""
    access = program_access(request)
    try:
        page = max(int(request.GET.get("page", 1)), 1)
    except ValueError:
        page = 1
    page = min(page, 10**6)
    ledger = selectors.quota_ledger(program=access.program)
    offset = (page - 1) * LEDGER_ROWS_PER_PAGE
    rows = list(ledger[offset : offset + LEDGER_ROWS_PER_PAGE])
    context = {
        "rows": rows,
        "balance": quota_balance(program=access.program),
        **pager(request.GET, page, has_next=offset + len(rows) < ledger.count()),
    }
    return render_page(request, "campaigns/quota_ledger.html", context)
