"""Issuing cards: codes assigned and tokens signed once per card.

Chunks rendered twice (a retried RQ job, a killed worker) must print the same codes, so a
chunk's codes live in the database before it starts (a job issues them batch by batch,
cards/preparing.py, each batch with its chunks), and assigning them again is a no-op.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from campaigns.models import Job
from cards.codes import new_card_code
from cards.models import Card
from cards.signing_keys import signing_key_for
from cards.tokens import CardClaims, CardSigner, token_campaign_type, token_name
from cards.validity import REISSUED, add_months, program_today

_CODE_LOOKUP_BATCH = 500
_INSERT_ATTEMPTS = 3
# Cards built, signed and inserted this many at a time: a 200,000-card job never holds
# more than one batch of beneficiaries and cards in memory.
ISSUE_BATCH = 2000


def cards_assign(*, job, beneficiaries) -> list[Card]:
    """One card per beneficiary for this job, in the order given (see cards_issue)."""
    beneficiaries = list(beneficiaries)
    ids = cards_issue(job=job, beneficiaries=beneficiaries)
    cards = {c.beneficiary_id: c for c in Card.objects.filter(job=job, beneficiary_id__in=ids)}
    return [cards[pk] for pk in ids]


def cards_issue(*, job, beneficiaries) -> list[int]:
    """Give each beneficiary (an iterable, read once, in batches) a card of this job; returns
    their ids in the order given.

    Idempotent: when the job already has cards nothing is created and the ids of the given
    beneficiaries that have one are returned. Otherwise every card gets a fresh unique code
    and a token signed with the program's active key, all inserted in one transaction.
    """
    with transaction.atomic():
        # Two workers assigning the same job queue here; the second finds the first's cards.
        job = Job.objects.select_for_update().select_related("campaign__program").get(pk=job.pk)
        carded = set(Card.objects.filter(job=job).values_list("beneficiary_id", flat=True))
        if carded:
            return [b.pk for b in beneficiaries if b.pk in carded]
        issuer = CardIssuer(job)
        issued, seen = [], set()
        batch = []
        for beneficiary in beneficiaries:
            _check_beneficiary(job, beneficiary, seen)
            batch.append(beneficiary)
            if len(batch) == ISSUE_BATCH:
                issued += issuer.insert(batch)
                batch = []
        if batch:
            issued += issuer.insert(batch)
        if len(issued) != job.total_cards:
            # Someone left out at issue time: the job's count follows its cards.
            Job.objects.filter(pk=job.pk).update(total_cards=len(issued))
        return issued


def _check_beneficiary(job, beneficiary, seen):
    if beneficiary.campaign_id != job.campaign_id:
        raise ValueError(
            f"beneficiary {beneficiary.pk} does not belong to campaign {job.campaign_id}"
        )
    if beneficiary.pk in seen:
        raise ValueError(f"beneficiary {beneficiary.pk} is listed twice")
    seen.add(beneficiary.pk)


class CardIssuer:
    """Builds and inserts one job's cards batch by batch, with what every card shares."""

    def __init__(self, job):
        self.job = job
        self.campaign = campaign = job.campaign
        self.program = campaign.program
        self.issued_on = program_today(self.program)
        # A sensitive campaign's tokens say "health", never the condition (cards/tokens.py).
        self.token_type = token_campaign_type(campaign)
        self.expires_on = (
            add_months(self.issued_on, campaign.card_validity_months)
            if campaign.card_validity_months
            else None
        )
        # One decrypted private key for the whole job: signing is then ~50 µs a card.
        self.signer = CardSigner(signing_key_for(program=self.program))

    def insert(self, beneficiaries) -> list[int]:
        beneficiaries, replacing = self._make_room(beneficiaries)
        for attempt in range(1, _INSERT_ATTEMPTS + 1):
            cards = self._build(beneficiaries, replacing)
            try:
                with transaction.atomic():
                    Card.objects.bulk_create(cards, batch_size=1000)
                return [card.beneficiary_id for card in cards]
            except IntegrityError:
                # Another job of the same prefix took one of these codes between our check
                # and our insert (odds ~1e-7 per card); draw again.
                if attempt == _INSERT_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def _make_room(self, beneficiaries):
        """One live card per person (a unique index): a reissue revokes the current cards
        ("reissued") and links the new ones to them; any other job supersedes expired cards
        and leaves out a holder of a valid card (the selection made when the job was accepted
        already did; this keeps the rule should anything have changed since). In the
        transaction that inserts the new cards, so a failure changes nothing."""
        live = {
            card.beneficiary_id: card
            for card in Card.objects.select_for_update().filter(
                beneficiary_id__in=[b.pk for b in beneficiaries],
                revoked_at__isnull=True, superseded_at__isnull=True,
            ).only("pk", "beneficiary_id", "expires_on")
        }
        if not live:
            return beneficiaries, {}
        now = timezone.now()
        if self.job.reissue:
            Card.objects.filter(pk__in=[c.pk for c in live.values()]).update(
                revoked_at=now, revoked_reason=REISSUED
            )
            return beneficiaries, {pk: card.pk for pk, card in live.items()}
        expired = {pk for pk, card in live.items()
                   if card.expires_on is not None and card.expires_on < self.issued_on}
        Card.objects.filter(pk__in=[live[pk].pk for pk in expired]).update(superseded_at=now)
        return [b for b in beneficiaries if b.pk not in live or b.pk in expired], {}

    def _build(self, beneficiaries, replacing) -> list[Card]:
        campaign = self.campaign
        codes = _fresh_codes(campaign.prefix, len(beneficiaries))
        cards = []
        for beneficiary, code in zip(beneficiaries, codes, strict=True):
            claims = CardClaims(
                name=token_name(beneficiary.first_name, beneficiary.last_name),
                birth_date=beneficiary.date_of_birth,
                program_id=self.program.pk,
                campaign_type=self.token_type,
                issued_on=self.issued_on,
                expires_on=self.expires_on,
            )
            cards.append(
                Card(
                    campaign=campaign,
                    beneficiary=beneficiary,
                    job=self.job,
                    code=code,
                    token=self.signer.sign(code=code, payload=claims),
                    issued_on=self.issued_on,
                    expires_on=self.expires_on,
                    reissue_of_id=replacing.get(beneficiary.pk),
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
