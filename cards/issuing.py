"""Issuing cards: codes assigned and tokens signed once per job, before rendering fans out.

Chunks rendered twice (a retried RQ job, a killed worker) must print the same codes, so the
codes live in the database before any chunk starts, and assigning them again is a no-op.
"""

import calendar
from datetime import date
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone

from campaigns.models import Job
from cards.codes import new_card_code
from cards.models import Card
from verification.keys import signing_key_for
from verification.tokens import CardClaims, CardSigner

_CODE_LOOKUP_BATCH = 500
_INSERT_ATTEMPTS = 3


def cards_assign(*, job, beneficiaries) -> list[Card]:
    """One card per beneficiary for this job, in the order given.

    Idempotent: when the job already has cards they are returned (in the order of
    `beneficiaries`) and nothing is created. Otherwise every card gets a fresh unique code and
    a token signed with the program's active key, all inserted in one transaction.
    """
    beneficiaries = list(beneficiaries)
    with transaction.atomic():
        # Two workers assigning the same job queue here; the second finds the first's cards.
        job = Job.objects.select_for_update().select_related("campaign__program").get(pk=job.pk)
        existing = {card.beneficiary_id: card for card in Card.objects.filter(job=job)}
        if existing:
            return [existing[b.pk] for b in beneficiaries if b.pk in existing]
        _check_beneficiaries(job, beneficiaries)
        if not beneficiaries:
            return []
        for attempt in range(1, _INSERT_ATTEMPTS + 1):
            cards = _build_cards(job, beneficiaries)
            try:
                with transaction.atomic():
                    return Card.objects.bulk_create(cards, batch_size=1000)
            except IntegrityError:
                # Another job of the same prefix took one of these codes between our check and
                # our insert (odds ~1e-7 per card); draw again.
                if attempt == _INSERT_ATTEMPTS:
                    raise
    raise AssertionError("unreachable")


def program_today(program) -> date:
    return timezone.localdate(timezone=ZoneInfo(program.timezone))


def add_months(day: date, months: int) -> date:
    """Same day `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def _check_beneficiaries(job, beneficiaries):
    seen = set()
    for beneficiary in beneficiaries:
        if beneficiary.campaign_id != job.campaign_id:
            raise ValueError(
                f"beneficiary {beneficiary.pk} does not belong to campaign {job.campaign_id}"
            )
        if beneficiary.pk in seen:
            raise ValueError(f"beneficiary {beneficiary.pk} is listed twice")
        seen.add(beneficiary.pk)


def _build_cards(job, beneficiaries) -> list[Card]:
    campaign = job.campaign
    program = campaign.program
    issued_on = program_today(program)
    expires_on = (
        add_months(issued_on, campaign.card_validity_months)
        if campaign.card_validity_months
        else None
    )
    # One decrypted private key for the whole job: signing is then ~50 µs a card.
    signer = CardSigner(signing_key_for(program=program))
    codes = _fresh_codes(campaign.prefix, len(beneficiaries))
    cards = []
    for beneficiary, code in zip(beneficiaries, codes, strict=True):
        claims = CardClaims(
            name=f"{beneficiary.first_name} {beneficiary.last_name}".strip(),
            birth_date=beneficiary.date_of_birth,
            program_id=program.pk,
            campaign_type=campaign.campaign_type,
            issued_on=issued_on,
            expires_on=expires_on,
        )
        cards.append(
            Card(
                campaign=campaign,
                beneficiary=beneficiary,
                job=job,
                code=code,
                token=signer.sign(code=code, payload=claims),
                issued_on=issued_on,
                expires_on=expires_on,
            )
        )
    return cards


def _fresh_codes(prefix: str, count: int) -> list[str]:
    """`count` distinct codes that no card holds yet."""
    codes: set[str] = set()
    while len(codes) < count:
        drawn = set()
        while len(drawn) < count - len(codes):
            code = new_card_code(prefix)
            if code not in codes:
                drawn.add(code)
        ordered = sorted(drawn)
        for start in range(0, len(ordered), _CODE_LOOKUP_BATCH):
            batch = ordered[start : start + _CODE_LOOKUP_BATCH]
            drawn.difference_update(
                Card.objects.filter(code__in=batch).values_list("code", flat=True)
            )
        codes |= drawn
    return list(codes)
