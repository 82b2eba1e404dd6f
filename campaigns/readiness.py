"""The checklist shown before a generation job starts: each check is `ready`, `missing` (it
blocks the start) or `warning` (worth a look, does not block), with what to do about it.

The checks are plug-ins listed in settings.CAMPAIGN_READINESS_CHECKS, in display order: this
module holds the campaign's own and the checklist's shape; the apps above campaigns (cards:
cards already held, quota, card data) add theirs there, so campaigns never imports them."""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from campaigns.lifecycle import known_template_ids
from campaigns.models import Campaign, CampaignType, Job
from campaigns.selectors import campaign_metrics

READY, MISSING, WARNING = "ready", "missing", "warning"


def campaign_readiness(*, campaign, metrics=None):
    """Whether a generation job can start, as {"can_start", "checks"}."""
    # A copy: checks may keep what several of them read (cards.readiness's generation plan).
    metrics = dict(metrics or campaign_metrics(campaign=campaign))
    checks = [check(campaign=campaign, metrics=metrics) for check in _checks()]
    return {"can_start": all(c["status"] != MISSING for c in checks), "checks": checks}


@cache
def _checks():
    return tuple(import_string(path) for path in settings.CAMPAIGN_READINESS_CHECKS)


def readiness_check(key, label, status, detail, action=None):
    """One line of the checklist; `action` only when the check is not ready."""
    return {
        "key": key,
        "label": label,
        "status": status,
        "detail": detail,
        "action": action if status != READY else None,
    }


def _check(key, status, detail, action=None):
    return readiness_check(key, CHECK_LABELS[key], status, detail, action)


CHECK_LABELS = {
    "beneficiaries": gettext_lazy("Beneficiaries"),
    "template": gettext_lazy("Card template"),
    "phones": gettext_lazy("Phone numbers"),
    "preview": gettext_lazy("Design preview"),
    "state": gettext_lazy("Campaign state"),
}


def beneficiaries_check(*, campaign, metrics):
    people = metrics["beneficiaries"]
    if people == 0:
        return _check(
            "beneficiaries",
            MISSING,
            _("No beneficiaries yet."),
            _("Import beneficiaries from a CSV file or from DHIS2."),
        )
    detail = ngettext("%(n)s beneficiary.", "%(n)s beneficiaries.", people) % {"n": people}
    return _check("beneficiaries", READY, detail)


def template_check(*, campaign, metrics):
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


def phones_check(*, campaign, metrics):
    people, without_phone = metrics["beneficiaries"], metrics["without_phone"]
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


def preview_check(*, campaign, metrics):
    if campaign.status == Campaign.Status.DRAFT:
        return _check(
            "preview",
            WARNING,
            _("The card design has not been validated yet."),
            _("Open the preview and check a sample card."),
        )
    return _check("preview", READY, _("The card design was validated."))


def state_check(*, campaign, metrics):
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
