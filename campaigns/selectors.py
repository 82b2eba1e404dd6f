"""Reads about campaigns: the filtered list, its quick-filter counts, a campaign's metrics and
whether it is ready to generate cards.

`params` are already-typed values (the API parses the query string with
campaigns.serializers.CampaignListQuerySerializer); every key is optional.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum, Window
from django.db.models.functions import Coalesce, Lower
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from campaigns.lifecycle import known_template_ids
from campaigns.models import Beneficiary, Campaign, CampaignType, Job, QuotaTransaction
from campaigns.services import quota_balance, quota_cost
from cards import studio

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
    """Counts for the campaign page and the API detail."""
    people = campaign.beneficiaries.order_by().aggregate(
        total=Count("id"), with_phone=Count("id", filter=Q(phone__regex=E164_PATTERN))
    )
    jobs = campaign.jobs.order_by().aggregate(
        count=Count("id"),
        cards_issued=Sum("cards_generated", filter=Q(status=Job.Status.COMPLETED)),
    )
    last_job = campaign.jobs.order_by("-created_at", "-id").first()
    return {
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


READY, MISSING, WARNING = "ready", "missing", "warning"

CHECK_LABELS = {
    "beneficiaries": gettext_lazy("Beneficiaries"),
    "template": gettext_lazy("Card template"),
    "quota": gettext_lazy("Quota"),
    "phones": gettext_lazy("Phone numbers"),
    "preview": gettext_lazy("Design preview"),
    "state": gettext_lazy("Campaign state"),
    "card_data": gettext_lazy("Card data"),
    "valid_cards": gettext_lazy("Cards already held"),
}


def campaign_readiness(*, campaign, metrics=None):
    """Whether a generation job can start, as a checklist: each check is `ready`, `missing`
    (blocks the start) or `warning` (worth a look, does not block). `action` says what to do
    about a check that is not ready, else it is None."""
    metrics = metrics or campaign_metrics(campaign=campaign)
    people = metrics["beneficiaries"]
    from cards.generation import generation_plan  # cards depends on campaigns, not back

    plan = generation_plan(campaign=campaign)
    checks = [
        _beneficiaries_check(people),
        _valid_cards_check(plan),
        _template_check(campaign),
        # Only new cards are charged: holders of a valid card are left out.
        _quota_check(campaign, plan["new"]),
        _phones_check(people, metrics["without_phone"]),
        _preview_check(campaign),
        _card_data_check(campaign, plan),
        _state_check(campaign),
    ]
    return {"can_start": all(c["status"] != MISSING for c in checks), "checks": checks}


def _check(key, status, detail, action=None):
    return {
        "key": key,
        "label": CHECK_LABELS[key],
        "status": status,
        "detail": detail,
        "action": action if status != READY else None,
    }


def _beneficiaries_check(people):
    if people == 0:
        return _check(
            "beneficiaries",
            MISSING,
            _("No beneficiaries yet."),
            _("Import beneficiaries from a CSV file or from DHIS2."),
        )
    detail = ngettext("%(n)s beneficiary.", "%(n)s beneficiaries.", people) % {"n": people}
    return _check("beneficiaries", READY, detail)


def _valid_cards_check(plan):
    """One valid card per person: a new job leaves out whoever holds one (reissue replaces)."""
    held, new = plan["valid_card"], plan["new"]
    reissue = _("To replace a card (lost, name corrected), reissue it from the beneficiary list.")
    if held and not new:
        return _check(
            "valid_cards", MISSING,
            ngettext("The beneficiary already holds a valid card.",
                     "All %(n)s beneficiaries already hold a valid card.", held) % {"n": held},
            reissue,
        )
    if held:
        return _check("valid_cards", READY, ngettext(
            "%(n)s beneficiary already holds a valid card and will be left out; new cards: "
            "%(new)s.",
            "%(n)s beneficiaries already hold a valid card and will be left out; new cards: "
            "%(new)s.",
            held,
        ) % {"n": held, "new": new})
    return _check("valid_cards", READY, _("Nobody holds a valid card yet."))


def _template_check(campaign):
    if not campaign.template_id:
        return _check(
            "template", MISSING, _("No card template chosen."), _("Choose a card template.")
        )
    if campaign.template_id not in known_template_ids():
        return _check(
            "template",
            MISSING,
            _("The template “%(id)s” no longer exists.") % {"id": campaign.template_id},
            _("Choose a card template."),
        )
    # Card Studio ids are the campaign type values, so the type's label names the template.
    labels = dict(CampaignType.choices)
    name = labels.get(campaign.template_id, campaign.template_id)
    return _check("template", READY, _("Template: %(name)s.") % {"name": name})


def _quota_check(campaign, people):
    balance = quota_balance(program=campaign.program)
    cost = quota_cost(cards=people, dpi=campaign.dpi)
    numbers = {"cards": people, "dpi": campaign.dpi, "cost": cost, "balance": balance}
    if balance < cost:
        return _check(
            "quota",
            MISSING,
            _(
                "%(cards)s cards at %(dpi)s dpi need %(cost)s quota units; "
                "the program has %(balance)s."
            )
            % numbers,
            _("Ask your administrator for more quota, or choose a lower resolution."),
        )
    return _check(
        "quota",
        READY,
        _("%(cards)s cards at %(dpi)s dpi need %(cost)s of the %(balance)s units available.")
        % numbers,
    )


def _phones_check(people, without_phone):
    if without_phone:
        return _check(
            "phones",
            WARNING,
            _("%(n)s of %(total)s cannot receive WhatsApp/SMS (no valid phone number).")
            % {"n": without_phone, "total": people},
            _("Their cards can still be printed, or fix the numbers and import again."),
        )
    if people == 0:
        return _check("phones", READY, _("No beneficiaries yet."))
    return _check("phones", READY, _("Every beneficiary has a valid phone number."))


def _preview_check(campaign):
    if campaign.status == Campaign.Status.DRAFT:
        return _check(
            "preview",
            WARNING,
            _("The card design has not been validated yet."),
            _("Open the preview and check a sample card."),
        )
    return _check("preview", READY, _("The card design was validated."))


def empty_card_fields(campaign):
    """[{key, label, empty, example}]: each template field the cards print with no campaign
    value, and how many people a new job would card (no valid card yet: see
    cards.generation.valid_card_holders) have no value of their own (their card would print a
    dash).
    `example` is one such person's external id, never a name: the readiness checklist is
    shown to anyone who may read the campaign. A sensitive campaign gives counts only (an
    external id links a person to the campaign for whoever holds the source system)."""
    template_id = studio.template_for_campaign(campaign)
    if template_id not in studio.TEMPLATES:
        return []
    design = studio.card_design(
        template_id=template_id, language=campaign.language, options=campaign.template_options
    )
    fields = [
        f for f in design.template.fields
        if f.key in design.show_fields and f.key not in design.values
    ]
    if not fields:
        return []
    from cards.generation import valid_card_holders  # cards depends on campaigns, not back

    people = campaign.beneficiaries.exclude(
        pk__in=valid_card_holders(campaign=campaign)
    ).order_by()
    counts = people.aggregate(**{f.key: Count("id", filter=_empty(f.key)) for f in fields})
    rows = []
    for f in fields:
        if counts[f.key]:
            example = None if campaign.is_sensitive else (
                people.filter(_empty(f.key)).exclude(external_id="")
                .order_by("id").values_list("external_id", flat=True).first()
            )
            rows.append({"key": f.key, "label": f.labels[design.language],
                         "empty": counts[f.key], "example": example})
    return rows


def _empty(key):
    # Absent, JSON null, "" or [] (the renderer prints a dash for all of them).
    return (
        Q(**{f"attributes__{key}__isnull": True})
        | Q(**{f"attributes__{key}": None})
        | Q(**{f"attributes__{key}": ""})
        | Q(**{f"attributes__{key}": []})
    )


def _card_data_check(campaign, plan):
    """Only the people a new job would card count: holders of a valid card are left out."""
    empty = empty_card_fields(campaign)
    if not empty:
        return _check("card_data", READY, _("Every printed field has a value."))
    parts = []
    for row in empty:
        numbers = {"field": row["label"], "n": row["empty"], "example": row["example"]}
        if row["example"]:
            parts.append(_("%(field)s: empty for %(n)s (e.g. %(example)s)") % numbers)
        else:
            parts.append(_("%(field)s: empty for %(n)s") % numbers)
    columns = ", ".join(row["key"] for row in empty)
    if plan["valid_card"]:
        detail = _("These new cards would print a dash (people who already hold a valid card "
                   "are left out of a new job and not counted): %(fields)s.")
    else:
        detail = _("These cards would print a dash: %(fields)s.")
    return _check(
        "card_data",
        WARNING,
        detail % {"fields": "; ".join(parts)},
        _("Set a value for the whole campaign on the card design page, or fill the "
          "column(s) %(columns)s in the file and import it again.") % {"columns": columns},
    )


def _state_check(campaign):
    if campaign.deleted_at:
        return _check(
            "state", MISSING, _("The campaign is deleted."), _("Restore the campaign first.")
        )
    if campaign.archived_at:
        return _check(
            "state", MISSING, _("The campaign is archived."), _("Unarchive the campaign first.")
        )
    running = campaign.jobs.exclude(status__in=Job.FINAL_STATUSES).first()
    if running is not None:
        return _check(
            "state",
            MISSING,
            _("Generation job %(id)s is still running.") % {"id": running.pk},
            _("Wait for it to finish or cancel it."),
        )
    return _check("state", READY, _("The campaign can generate cards."))


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
