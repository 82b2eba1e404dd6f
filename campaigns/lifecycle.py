"""A campaign's life: create, edit, archive, soft delete, restore, purge, duplicate.

Every function takes keyword arguments, validates (raising django's ValidationError keyed by
field name) and changes the rows in one transaction. The API and the browser pages both call
these; neither writes a Campaign row itself.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns import studio
from campaigns.models import SENSITIVE_CAMPAIGN_TYPES, Campaign, CampaignType, Job

# Fields an operator sets; everything else (status, dates, program) the system decides.
EDITABLE_FIELDS = (
    "name",
    "language",
    "template_id",
    "template_options",
    "description",
    "dpi",
    "card_validity_months",
    "sensitive",
)
# Set once: the prefix is printed in every card code, the type decides the card's fields.
FIXED_FIELDS = ("prefix", "campaign_type")
CREATE_FIELDS = EDITABLE_FIELDS + FIXED_FIELDS
# Copied by campaign_duplicate: the settings, never the people or the jobs.
DUPLICATED_FIELDS = (
    "campaign_type",
    "language",
    "template_id",
    "template_options",
    "description",
    "dpi",
    "card_validity_months",
    "sensitive",
)
MAX_CARD_VALIDITY_MONTHS = 240


class CampaignConflict(Exception):
    """The campaign's state forbids the change (the API answers 409)."""


def known_template_ids():
    """Card Studio ships one template per campaign type, with the type value as its id."""
    return set(studio.TEMPLATES)


def normalise_prefix(prefix):
    return (prefix or "").strip().upper()


def campaign_create(*, program, user=None, **fields):
    """A new draft campaign of `program`. `fields` are CREATE_FIELDS; name, campaign_type and
    prefix are required, template_id defaults to the campaign type."""
    _refuse_unknown_fields(fields, CREATE_FIELDS)
    fields = dict(fields)
    fields["prefix"] = normalise_prefix(fields.get("prefix"))
    if not fields.get("template_id") and fields.get("campaign_type") in CampaignType.values:
        fields["template_id"] = fields["campaign_type"]
    for optional_text in ("description", "template_id"):
        if fields.get(optional_text) is None:
            fields.pop(optional_text, None)
    if fields.get("template_options") is None:
        fields.pop("template_options", None)
    if fields.get("sensitive") is None:
        fields["sensitive"] = fields.get("campaign_type") in SENSITIVE_CAMPAIGN_TYPES
    campaign = Campaign(
        program=program,
        created_by=user if isinstance(user, get_user_model()) else None,
        **fields,
    )
    errors = _business_errors(campaign)
    _full_clean(campaign, errors)
    return _save_claiming_prefix(campaign)


def campaign_update(*, campaign, **fields):
    """Change EDITABLE_FIELDS. Sending the prefix or the type again is fine; changing them is
    refused with an error on that field."""
    _refuse_unknown_fields(fields, CREATE_FIELDS)
    errors = {}
    for name in FIXED_FIELDS:
        if name not in fields:
            continue
        sent = normalise_prefix(fields[name]) if name == "prefix" else fields[name]
        if sent != getattr(campaign, name):
            errors[name] = [_("This cannot change after the campaign is created.")]
    changed = [name for name in fields if name in EDITABLE_FIELDS]
    for name in changed:
        value = fields[name]
        if value is None and name in ("description", "template_id"):
            value = ""
        if value is None and name == "template_options":
            value = {}
        setattr(campaign, name, value)
    errors.update(_business_errors(campaign, check_prefix=False))
    _full_clean(campaign, errors)
    if "template_id" in changed:
        changed.append("template_options")  # re-checked against the new template above
    # Only what the caller changed: a job finishing meanwhile keeps the status it wrote.
    campaign.save(update_fields=[*dict.fromkeys(changed), "updated_at"])
    return campaign


def campaign_archive(*, campaign):
    """Hide the campaign from the default lists; its cards stay valid."""
    if campaign.archived_at is None:
        campaign.archived_at = timezone.now()
        campaign.save(update_fields=["archived_at", "updated_at"])
    return campaign


def campaign_unarchive(*, campaign):
    if campaign.archived_at is not None:
        campaign.archived_at = None
        campaign.save(update_fields=["archived_at", "updated_at"])
    return campaign


def campaign_soft_delete(*, campaign):
    """Mark deleted (restorable). A running job must be cancelled first: its worker would
    otherwise keep writing cards for a campaign nobody can see."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        _refuse_if_job_running(campaign)
        if campaign.deleted_at is None:
            campaign.deleted_at = timezone.now()
            campaign.save(update_fields=["deleted_at", "updated_at"])
    return campaign


def campaign_restore(*, campaign):
    if campaign.deleted_at is not None:
        campaign.deleted_at = None
        campaign.save(update_fields=["deleted_at", "updated_at"])
    return campaign


def campaign_purge(*, campaign):
    """Delete the campaign, its beneficiaries, jobs and their files for good.

    The quota ledger is append-only: its rows stay, their note still naming the job.
    """
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        _refuse_if_job_running(campaign)
        files = [
            (field.storage, field.name)
            for job in campaign.jobs.all()
            for field in (job.pdf, job.zip, job.portal, job.manifest)
            if field
        ]
        try:
            campaign.delete()
        except (ProtectedError, RestrictedError):
            raise CampaignConflict(
                _("Other records still depend on this campaign; delete or archive it instead.")
            ) from None
        # Files go only once the rows are gone for sure; a rolled-back purge keeps them.
        transaction.on_commit(lambda: _delete_files(files))


def campaign_duplicate(*, campaign, prefix, name=None, user=None):
    """A new draft campaign with the same settings and Card Studio options, without
    beneficiaries or jobs. The copy needs its own prefix."""
    if not normalise_prefix(prefix):
        raise ValidationError({"prefix": [_("A duplicate needs its own prefix.")]})
    if not name:
        name = _("%(name)s (copy)") % {"name": campaign.name}
        name = name[: Campaign._meta.get_field("name").max_length]
    fields = {field: getattr(campaign, field) for field in DUPLICATED_FIELDS}
    fields["template_options"] = dict(campaign.template_options or {})
    return campaign_create(
        program=campaign.program, user=user, name=name, prefix=prefix, **fields
    )


def _refuse_unknown_fields(fields, allowed):
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise TypeError(f"Unknown campaign field(s): {', '.join(unknown)}")


def _business_errors(campaign, *, check_prefix=True):
    """Rules the model's own validation does not know: the template catalogue, a sensible
    validity and an installation-wide prefix answer that names no other program."""
    errors = {}
    if not campaign.sensitive and campaign.campaign_type in SENSITIVE_CAMPAIGN_TYPES:
        errors["sensitive"] = [_("An HIV campaign is always sensitive.")]
    if campaign.template_id and campaign.template_id not in known_template_ids():
        errors["template_id"] = [
            _("Unknown template “%(id)s”. Choose one of: %(ids)s.")
            % {"id": campaign.template_id, "ids": ", ".join(sorted(known_template_ids()))}
        ]
    months = campaign.card_validity_months
    if months is not None and not (1 <= months <= MAX_CARD_VALIDITY_MONTHS):
        errors["card_validity_months"] = [
            _("Between 1 and %(max)s months, or empty for cards that do not expire.")
            % {"max": MAX_CARD_VALIDITY_MONTHS}
        ]
    if not isinstance(campaign.template_options, dict):
        errors["template_options"] = [_("An object of Card Studio options.")]
    elif campaign.template_id in known_template_ids():
        try:
            campaign.template_options = studio.template_options_validate(
                campaign.template_options, campaign.template_id
            )
        except ValidationError as exc:
            # Studio names the option ("title"); the caller sent it inside template_options.
            errors["template_options"] = [
                f"{key}: {message}" if key not in message else message
                for key, messages in exc.message_dict.items()
                for message in messages
            ]
    taken = check_prefix and Campaign.objects.filter(prefix=campaign.prefix).exists()
    if campaign.prefix and taken:
        errors["prefix"] = [_prefix_taken_message()]
    return errors


def _prefix_taken_message():
    # Deliberately silent about who holds it: prefixes are unique across every program.
    return _("This prefix is already taken; choose another one.")


def _full_clean(campaign, errors):
    try:
        # Uniqueness of the prefix is answered by _business_errors with a neutral message.
        campaign.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def _save_claiming_prefix(campaign):
    try:
        with transaction.atomic():
            campaign.save()
    except IntegrityError:
        # Two creations raced for the same prefix; the loser hears the same answer.
        if Campaign.objects.filter(prefix=campaign.prefix).exists():
            raise ValidationError({"prefix": [_prefix_taken_message()]}) from None
        raise
    return campaign


def _refuse_if_job_running(campaign):
    running = campaign.jobs.exclude(status__in=Job.FINAL_STATUSES).first()
    if running is not None:
        raise CampaignConflict(
            _("Generation job %(id)s is still running; cancel it first.") % {"id": running.pk}
        )


def _delete_files(files):
    for storage, name in files:
        storage.delete(name)
