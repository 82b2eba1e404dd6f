"""Reads about campaigns: the filtered list, its quick-filter counts, a campaign's metrics and
whether it is ready to generate cards.

`params` are already-typed values (the API parses the query string with
campaigns.serializers.CampaignListQuerySerializer); every key is optional.
"""

from datetime import datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum, Window
from django.db.models.functions import Coalesce, Lower
from django.utils.module_loading import import_string

from campaigns.models import Beneficiary, Campaign, CampaignType, Job, QuotaTransaction

SORT_FIELDS = ("name", "created_at", "updated_at", "status", "campaign_type", "prefix")
ARCHIVED_CHOICES = ("false", "true", "all")
DEFAULT_LIMIT = 25
MAX_LIMIT = 200
# A number WhatsApp and SMS can reach; imports store phones in E.164 or leave them empty.
E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"

DEFAULTS = {
    "q": "",
    "status": [],
    "campaign_type": [],
    "archived": "false",
    "include_deleted": False,
    "only_deleted": False,
    "date_from": None,
    "date_to": None,
    "sort_field": "created_at",
    "sort_dir": "desc",
    "limit": DEFAULT_LIMIT,
    "offset": 0,
}


def campaign_for_program(*, program, pk, include_deleted=False):
    """The program's campaign `pk`, or None (also for another program's campaign)."""
    qs = Campaign.objects.for_program(program).select_related("program")
    if not include_deleted:
        qs = qs.alive()
    return qs.filter(pk=pk).first()


def campaign_filter(*, program, params):
    """The program's campaigns matching `params`, with `beneficiary_count`, in the requested
    order (the id breaks ties so pages never repeat or skip a row)."""
    p = _with_defaults(params)
    descending = p["sort_dir"] == "desc"
    field = Lower("name") if p["sort_field"] == "name" else F(p["sort_field"])
    return (
        _matching(program, p)
        .annotate(beneficiary_count=_beneficiary_count())
        .order_by(field.desc() if descending else field.asc(), "-id" if descending else "id")
    )


def campaign_list(*, program, params):
    """(rows of the requested page, meta, query): `meta` as the API returns it, `query` the
    filters applied, with their defaults filled in."""
    p = _with_defaults(params)
    total = _matching(program, p).count()
    page = campaign_filter(program=program, params=p)[p["offset"] : p["offset"] + p["limit"]]
    rows = list(page)
    meta = {
        "total": total,
        "limit": p["limit"],
        "offset": p["offset"],
        "sort": {"field": p["sort_field"], "direction": p["sort_dir"]},
    }
    query = {
        "q": p["q"],
        "status": list(p["status"]),
        "campaign_type": list(p["campaign_type"]),
        "archived": p["archived"],
        "include_deleted": p["include_deleted"],
        "only_deleted": p["only_deleted"],
        "date_from": p["date_from"],
        "date_to": p["date_to"],
    }
    return rows, meta, query


def campaign_aggregations(*, program, params):
    """Quick-filter counts. Each count ignores its own filter and keeps the others, so it says
    how many campaigns the list would show after clicking that filter."""
    p = _with_defaults(params)
    without_status = _matching(program, p, ignore={"status"})
    without_type = _matching(program, p, ignore={"campaign_type"})
    anywhere = _matching(program, p, ignore={"archived", "deleted"})
    status_counts = dict.fromkeys(Campaign.Status.values, 0)
    status_counts.update(_count_by(without_status, "status"))
    type_counts = dict.fromkeys(CampaignType.values, 0)
    type_counts.update(_count_by(without_type, "campaign_type"))
    return {
        "quick_filters": {
            "status": status_counts,
            "campaign_type": type_counts,
            "archived": anywhere.filter(deleted_at__isnull=True, archived_at__isnull=False).count(),
            "deleted": anywhere.filter(deleted_at__isnull=False).count(),
        }
    }


def campaign_metrics(*, campaign):
    """Counts for the campaign page and the API detail, with those the apps above campaigns
    add (settings.CAMPAIGN_METRICS)."""
    people = campaign.beneficiaries.order_by().aggregate(
        total=Count("id"), with_phone=Count("id", filter=Q(phone__regex=E164_PATTERN))
    )
    jobs = campaign.jobs.order_by().aggregate(
        count=Count("id"),
        cards_issued=Sum("cards_generated", filter=Q(status=Job.Status.COMPLETED)),
    )
    last_job = campaign.jobs.order_by("-created_at", "-id").first()
    metrics = {
        "beneficiaries": people["total"],
        "with_phone": people["with_phone"],
        "without_phone": people["total"] - people["with_phone"],
        "cards_issued": jobs["cards_issued"] or 0,
        "jobs": jobs["count"],
        "last_job": None
        if last_job is None
        else {
            "id": last_job.pk,
            "status": last_job.status,
            "progress": last_job.progress,
            "cards_generated": last_job.cards_generated,
            "total_cards": last_job.total_cards,
            "created_at": last_job.created_at,
            "finished_at": last_job.finished_at,
        },
    }
    # The figures of the apps above campaigns (settings.CAMPAIGN_METRICS), e.g. distribution's.
    for figures in _campaign_metrics():
        metrics.update(figures(campaign=campaign, metrics=metrics))
    return metrics


@cache
def _campaign_metrics():
    return tuple(import_string(path) for path in settings.CAMPAIGN_METRICS)


def _beneficiary_count():
    # A correlated subquery rather than a join: PostgreSQL counts for the rows of the page
    # only, not for every campaign of the program before it sorts and cuts.
    counts = (
        Beneficiary.objects.filter(campaign=OuterRef("pk"))
        .order_by()
        .values("campaign")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(counts), 0)


def _count_by(queryset, field):
    rows = queryset.order_by().values(field).annotate(n=Count("id"))
    return {row[field]: row["n"] for row in rows}


def _program_zone(program):
    try:
        return ZoneInfo(program.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _matching(program, p, ignore=()):
    """The program's campaigns matching the filters in `p`, except those named in `ignore`."""
    qs = Campaign.objects.for_program(program)
    if "deleted" not in ignore:
        if p["only_deleted"]:
            qs = qs.filter(deleted_at__isnull=False)
        elif not p["include_deleted"]:
            qs = qs.filter(deleted_at__isnull=True)
    if "archived" not in ignore:
        if p["archived"] == "false":
            qs = qs.filter(archived_at__isnull=True)
        elif p["archived"] == "true":
            qs = qs.filter(archived_at__isnull=False)
    q = (p["q"] or "").strip()
    if q:
        qs = qs.filter(
            Q(name__icontains=q) | Q(prefix__icontains=q) | Q(description__icontains=q)
        )
    if p["status"] and "status" not in ignore:
        qs = qs.filter(status__in=p["status"])
    if p["campaign_type"] and "campaign_type" not in ignore:
        qs = qs.filter(campaign_type__in=p["campaign_type"])
    # Dates are the program's calendar days: "created on the 3rd" means the 3rd in Dakar.
    tz = _program_zone(program)
    if p["date_from"]:
        qs = qs.filter(created_at__gte=datetime.combine(p["date_from"], time.min, tzinfo=tz))
    if p["date_to"]:
        day_after = p["date_to"] + timedelta(days=1)
        qs = qs.filter(created_at__lt=datetime.combine(day_after, time.min, tzinfo=tz))
    return qs


def _with_defaults(params):
    return {**DEFAULTS, **{k: v for k, v in (params or {}).items() if v is not None}}


def quota_ledger(*, program):
    """The program's quota ledger, newest first, each row with `balance`: the program's
    balance just after it (a running sum in ledger order, computed before any paging)."""
    return (
        QuotaTransaction.objects.for_program(program)
        .select_related("job__campaign")
        .annotate(
            balance=Window(Sum("units"), order_by=[F("created_at").asc(), F("id").asc()])
        )
        .order_by("-created_at", "-id")
    )


def dashboard_figures(*, program):
    """The dashboard tiles the apps above campaigns add (settings.PROGRAM_DASHBOARD_FIGURES):
    [{key, label, value}], counted from their own data."""
    return [figure(program=program) for figure in _dashboard_figures()]


@cache
def _dashboard_figures():
    return tuple(import_string(path) for path in settings.PROGRAM_DASHBOARD_FIGURES)
