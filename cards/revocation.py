"""Revoking a card (lost, stolen, issued by mistake, beneficiary deceased) and undoing it.

A revoked card answers "revoked" on the online page at once, and in every offline portal
built after the revocation (a portal is a snapshot: rebuild it, or let it fetch the newest
signed status list, /v/status/<PREFIX>.bin, when it is online).
"""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cards.models import Card

logger = logging.getLogger(__name__)

REASON_MAX_LENGTH = Card._meta.get_field("revoked_reason").max_length


class CardStateConflict(Exception):
    """The card is already in the state asked for (revoking a revoked card)."""


def card_revoke(*, card, reason, user=None) -> Card:
    """Marks the card revoked now, with the reason; ValidationError names a bad reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "A reason is required to revoke a card."})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            {"reason": f"At most {REASON_MAX_LENGTH} characters ({len(reason)} given)."}
        )
    with transaction.atomic():
        card = Card.objects.select_for_update().get(pk=card.pk)
        if card.revoked_at is not None:
            raise CardStateConflict(f"Card {card.code} is already revoked.")
        card.revoked_at = timezone.now()
        card.revoked_reason = reason
        card.save(update_fields=["revoked_at", "revoked_reason"])
    # Who revoked it: the card has no column for it, the log keeps it (no personal data).
    logger.info(
        "card %s revoked by user %s", card.code, getattr(user, "pk", None) or "-"
    )
    return card


def card_unrevoke(*, card, user=None) -> Card:
    """Makes a revoked card valid again (a revocation made by mistake)."""
    with transaction.atomic():
        card = Card.objects.select_for_update().get(pk=card.pk)
        if card.revoked_at is None:
            raise CardStateConflict(_("Card %(code)s is not revoked.") % {"code": card.code})
        # One valid card per person: a card replaced since (a reissue) stays revoked.
        newer = Card.objects.filter(
            beneficiary_id=card.beneficiary_id, revoked_at__isnull=True, superseded_at__isnull=True
        ).first()
        if newer is not None:
            raise CardStateConflict(
                _("Card %(code)s cannot be valid again: %(newer)s replaced it.")
                % {"code": card.code, "newer": newer.code}
            )
        card.revoked_at = None
        card.revoked_reason = ""
        card.save(update_fields=["revoked_at", "revoked_reason"])
    logger.info("card %s unrevoked by user %s", card.code, getattr(user, "pk", None) or "-")
    return card
