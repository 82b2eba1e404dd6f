"""When a card is valid: the program's today, a card's expiry date, its status on a day, and
the reason recorded on a card a reissue replaced."""

import calendar
from datetime import date
from zoneinfo import ZoneInfo

from django.utils import timezone

from cards.signing_keys import signed_with_withdrawn_key

# Reason recorded on a card replaced by a reissue.
REISSUED = "reissued"


def program_today(program) -> date:
    return timezone.localdate(timezone=ZoneInfo(program.timezone))


def add_months(day: date, months: int) -> date:
    """Same day `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def card_status(card) -> str:
    """valid, revoked, withdrawn (signed by a key the program withdrew) or expired today in
    the card's program's timezone. Revoked comes first (a person's own card), then withdrawn
    (whatever its dates, the signature can no longer be trusted)."""
    status = card.status_on(program_today(card.campaign.program))
    if status != card.Status.REVOKED and signed_with_withdrawn_key(card):
        return card.Status.WITHDRAWN
    return status
