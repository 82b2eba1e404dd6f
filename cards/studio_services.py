"""Card Studio services: change a campaign's card design, validate it, set a program's logo.

A design is a campaign's `template_id` and `template_options` (campaigns/studio.py). Validating
it moves a draft campaign to `preview_ready`; any later change of the design moves it back
to `draft`, so what is validated is always what will be printed. While a generation job
runs, the design cannot change: its chunks read the campaign as they go, and one job's
cards must all look alike.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from campaigns import lifecycle, logos, studio
from campaigns.lifecycle import CampaignConflict
from campaigns.models import Campaign, Job, Program
from cards import previews
from cards.rendering.errors import CardRenderError

LOGO_MAX_BYTES = logos.LOGO_MAX_BYTES


_UNCHANGED = object()


def campaign_design_update(*, campaign, template_id=None, template_options,
                           card_validity_months=_UNCHANGED):
    """Save the campaign's template (unchanged when None), Card Studio options and, when
    given, the card validity in months (None: cards that do not expire).

    Raises ValidationError keyed by the option at fault ("primary_colour", "show_fields"...)
    or "template_id", and CampaignConflict while a generation job runs. A change of the
    design moves a `preview_ready` campaign back to `draft`; the same design saved again
    changes nothing."""
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.deleted_at is not None:
            raise CampaignConflict(_("The campaign is deleted; restore it first."))
        _refuse_while_generating(locked)
        new_template = template_id or studio.template_for_campaign(locked)
        cleaned = studio.template_options_validate(template_options, new_template)
        validity = {}
        if card_validity_months is not _UNCHANGED and (
            card_validity_months != locked.card_validity_months
        ):
            validity["card_validity_months"] = card_validity_months
        if (new_template, cleaned) == _saved_design(locked) and not validity:
            return locked
        lifecycle.campaign_update(
            campaign=locked, template_id=new_template, template_options=cleaned, **validity
        )
        if locked.status == Campaign.Status.PREVIEW_READY:
            locked.status = Campaign.Status.DRAFT
            locked.save(update_fields=["status", "updated_at"])
    return locked


def campaign_design_validate(*, campaign):
    """The operator has checked the preview: a draft (or failed) campaign becomes
    `preview_ready`. A campaign already `preview_ready` or `completed` keeps its status.

    Raises CampaignConflict for a deleted or archived campaign or while a job runs, and
    ValidationError (key "design") when the saved design cannot be rendered."""
    try:
        # Rendering first, outside the row lock: a design that does not render is not valid.
        previews.campaign_preview(campaign=campaign)
    except ValidationError as exc:
        raise ValidationError({"design": exc.messages}) from exc
    except CardRenderError as exc:
        raise ValidationError({"design": [str(exc)]}) from exc
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.deleted_at is not None:
            raise CampaignConflict(_("The campaign is deleted; restore it first."))
        if locked.archived_at is not None:
            raise CampaignConflict(_("The campaign is archived; unarchive it first."))
        _refuse_while_generating(locked)
        if locked.status in (Campaign.Status.DRAFT, Campaign.Status.FAILED):
            locked.status = Campaign.Status.PREVIEW_READY
            locked.save(update_fields=["status", "updated_at"])
    return locked


def program_logo_set(*, program, image_file):
    """Store a PNG or JPEG of at most 1 MB as the program's logo, checked and re-encoded by
    campaigns.logos (a PNG of at most 600 px a side, nothing but pixels). Raises
    ValidationError on the "logo" field."""
    try:
        content = logos.logo_content(upload=image_file, slug=program.slug)
    except ValidationError as exc:
        raise ValidationError({"logo": exc.messages}) from exc
    with transaction.atomic():
        locked = Program.objects.select_for_update().get(pk=program.pk)
        old_name = locked.logo.name
        locked.logo.save(content.name, content, save=False)
        locked.save(update_fields=["logo"])
        if old_name and old_name != locked.logo.name:
            storage = locked.logo.storage
            # Only once the new name is committed: a rolled-back change keeps its old file.
            transaction.on_commit(lambda: storage.delete(old_name))
    program.logo = locked.logo
    return locked


def _saved_design(campaign):
    template_id = studio.template_for_campaign(campaign)
    try:
        return template_id, studio.template_options_validate(campaign.template_options, template_id)
    except ValidationError:
        return template_id, None  # saved before a rule changed: any save replaces it


def _refuse_while_generating(campaign):
    running = campaign.jobs.exclude(status__in=Job.FINAL_STATUSES).order_by("pk").first()
    if running is not None:
        raise CampaignConflict(
            _("Generation job %(id)s is running; the card design can change once it has ended.")
            % {"id": running.pk}
        )
    if campaign.status == Campaign.Status.GENERATING:
        raise CampaignConflict(
            _("Cards are being generated; the card design can change once they are done.")
        )
