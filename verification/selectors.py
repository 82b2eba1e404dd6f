"""Reads of cards for verification: one card by its printed code (its status today is
cards.validity.card_status)."""

import re

from cards.models import Card

# Printed codes are upper case; people type them in any case, with spaces.
_CODE_SPACING = re.compile(r"\s+")


def normalise_code(code: str) -> str:
    return _CODE_SPACING.sub("", code or "").upper()


def card_by_code(code: str, *, program=None) -> Card | None:
    """The card with this code (any program when `program` is None: the public page)."""
    cards = Card.objects.select_related("campaign__program")
    if program is not None:
        cards = cards.for_program(program)
    return cards.filter(code=normalise_code(code)).first()

