"""Reads of cards for verification: one card by its printed code (its status today is
cards.validity.card_status)."""

import re

from campaigns.models import Beneficiary
from cards.models import Card

# A beneficiary attribute a portal is split by: a plain key (it becomes an ORM lookup path).
ATTRIBUTE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*")

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



def beneficiaries_by_attribute(*, campaign, name) -> list[tuple[str, object]]:
    """[(value, queryset of beneficiary ids)] for each value of the beneficiary attribute
    `name` (a district) in the campaign, sorted; people without it are left out.
    ValueError for a name that is not a plain attribute key."""
    if len(name) > 64 or not ATTRIBUTE_NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not an attribute name (letters, digits and _).")
    people = Beneficiary.objects.filter(campaign=campaign, **{f"attributes__{name}__isnull": False})
    values = sorted({str(v) for v in people.values_list(f"attributes__{name}", flat=True)
                     if str(v).strip()})
    return [
        (value, people.filter(**{f"attributes__{name}": value}).values("pk"))
        for value in values
    ]
