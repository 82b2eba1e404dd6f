"""The readiness checks that are about cards (settings.CAMPAIGN_READINESS_CHECKS lists them
beside the campaign's own, campaigns/readiness.py): cards already held, the quota the new
cards need, and printed fields that would be empty."""

from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from campaigns import studio
from campaigns.readiness import MISSING, READY, WARNING, readiness_check
from campaigns.services import quota_balance, quota_cost
from cards.generation import generation_plan, valid_card_holders

CHECK_LABELS = {
    "quota": gettext_lazy("Quota"),
    "card_data": gettext_lazy("Card data"),
    "valid_cards": gettext_lazy("Cards already held"),
}


def _check(key, status, detail, action=None):
    return readiness_check(key, CHECK_LABELS[key], status, detail, action)


def _plan(campaign, metrics):
    """The campaign's generation plan, counted once for all the checks of one readiness."""
    if "generation_plan" not in metrics:
        metrics["generation_plan"] = generation_plan(campaign=campaign)
    return metrics["generation_plan"]


def valid_cards_check(*, campaign, metrics):
    """One valid card per person: a new job leaves out whoever holds one (reissue replaces)."""
    plan = _plan(campaign, metrics)
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


def quota_check(*, campaign, metrics):
    """Only new cards are charged: holders of a valid card are left out."""
    people = _plan(campaign, metrics)["new"]
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


def card_data_check(*, campaign, metrics):
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
    if _plan(campaign, metrics)["valid_card"]:
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
