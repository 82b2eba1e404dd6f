from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction

from cards import issuing
from cards.codes import CODE_ALPHABET, new_card_code
from cards.issuing import cards_assign, cards_issue
from cards.models import Card
from cards.signing_keys import (
    program_public_keys,
    public_key_bytes,
    signing_key_for,
    signing_key_rotate,
)
from cards.tokens import card_token_verify
from cards.validity import add_months
from tests.factories import (
    make_beneficiaries,
    make_beneficiary,
    make_campaign,
    make_job,
    make_program,
)

pytestmark = pytest.mark.django_db


def _one_card(campaign):
    (card,) = cards_assign(
        job=make_job(campaign=campaign), beneficiaries=[make_beneficiary(campaign=campaign)]
    )
    return card


def test_codes_carry_the_prefix_and_only_unambiguous_characters():
    for _ in range(2000):
        code = new_card_code("DKR-VAC")
        prefix, _, suffix = code.rpartition("-")
        assert prefix == "DKR-VAC"
        assert len(suffix) == 8
        assert set(suffix) <= set(CODE_ALPHABET)


def test_code_alphabet_has_no_look_alikes():
    assert not set("01ILO") & set(CODE_ALPHABET)
    assert len(CODE_ALPHABET) == 31


def test_each_beneficiary_gets_one_card_in_the_order_given():
    campaign = make_campaign(program=make_program(), prefix="DKR-VAC")
    people = [make_beneficiary(campaign=campaign) for _ in range(3)]
    cards = cards_assign(job=make_job(campaign=campaign), beneficiaries=list(reversed(people)))
    assert [card.beneficiary_id for card in cards] == [p.pk for p in reversed(people)]
    assert all(card.code.startswith("DKR-VAC-") for card in cards)
    assert Card.objects.count() == 3


def test_card_tokens_verify_with_the_programs_key_and_carry_the_beneficiary():
    program = make_program()
    campaign = make_campaign(program=program, campaign_type="mild")
    person = make_beneficiary(campaign=campaign, first_name="Awa", last_name="Ba")
    (card,) = cards_assign(job=make_job(campaign=campaign), beneficiaries=[person])
    claims = card_token_verify(
        code=card.code, token=card.token, public_keys=program_public_keys(program=program)
    )
    assert claims.name == "Awa Ba"
    assert claims.birth_date == person.date_of_birth
    assert claims.campaign_type == "mild"
    assert claims.issued_on == card.issued_on


def test_a_long_name_is_signed_with_initials_for_the_given_names():
    program = make_program()
    campaign = make_campaign(program=program)
    person = make_beneficiary(campaign=campaign, first_name="Mame Diarra Bousso",
                              last_name="Ndiaye")
    (card,) = cards_assign(job=make_job(campaign=campaign), beneficiaries=[person])
    claims = card_token_verify(
        code=card.code, token=card.token, public_keys=program_public_keys(program=program)
    )
    assert claims.name == "Mame D. B. Ndiaye"


def test_assigning_again_returns_the_same_cards():
    campaign = make_campaign(program=make_program())
    job = make_job(campaign=campaign)
    people = [make_beneficiary(campaign=campaign) for _ in range(5)]
    first = cards_assign(job=job, beneficiaries=people)
    second = cards_assign(job=job, beneficiaries=people)
    assert [c.code for c in second] == [c.code for c in first]
    assert [c.token for c in second] == [c.token for c in first]
    assert Card.objects.filter(job=job).count() == 5


@pytest.mark.slow
def test_codes_are_unique_over_5000_cards():
    campaign = make_campaign(program=make_program())
    people = make_beneficiaries(campaign=campaign, count=5000)
    cards = cards_assign(job=make_job(campaign=campaign), beneficiaries=people)
    assert len(cards) == 5000
    assert len({card.code for card in cards}) == 5000
    assert Card.objects.filter(job__campaign=campaign).values("code").distinct().count() == 5000


def test_database_refuses_a_duplicate_code():
    campaign = make_campaign(program=make_program())
    card = _one_card(campaign)
    with pytest.raises(IntegrityError), transaction.atomic():
        Card.objects.create(
            campaign=campaign,
            beneficiary=card.beneficiary,
            code=card.code,
            token=card.token,
            issued_on=card.issued_on,
        )


def test_issue_date_is_today_in_the_programs_timezone(monkeypatch):
    # 23:30 UTC on 31 Dec is already 1 Jan in Nairobi (UTC+3).
    program = make_program(timezone_name="Africa/Nairobi")
    campaign = make_campaign(program=program)
    late = datetime(2026, 12, 31, 23, 30, tzinfo=ZoneInfo("UTC"))
    monkeypatch.setattr("django.utils.timezone.now", lambda: late)
    card = _one_card(campaign)
    assert card.issued_on == date(2027, 1, 1)


def test_cards_expire_after_the_campaigns_validity_months():
    campaign = make_campaign(program=make_program(), card_validity_months=12)
    card = _one_card(campaign)
    assert card.expires_on == add_months(card.issued_on, 12)
    claims = card_token_verify(
        code=card.code, token=card.token, public_keys=program_public_keys(program=campaign.program)
    )
    assert claims.expires_on == card.expires_on


def test_cards_without_validity_never_expire():
    campaign = make_campaign(program=make_program())
    card = _one_card(campaign)
    assert card.expires_on is None


def test_adding_months_clamps_to_the_end_of_shorter_months():
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2027, 11, 15), 3) == date(2028, 2, 15)
    assert add_months(date(2028, 2, 29), 12) == date(2029, 2, 28)


def test_beneficiary_of_another_campaign_is_refused_by_id():
    program = make_program()
    campaign, other = make_campaign(program=program), make_campaign(program=program)
    stranger = make_beneficiary(campaign=other)
    with pytest.raises(ValueError, match=f"beneficiary {stranger.pk}"):
        cards_assign(job=make_job(campaign=campaign), beneficiaries=[stranger])
    assert not Card.objects.exists()


def test_a_job_issued_in_several_batches_gives_each_beneficiary_one_card_in_order(monkeypatch):
    monkeypatch.setattr(issuing, "ISSUE_BATCH", 3)
    campaign = make_campaign(program=make_program())
    people = make_beneficiaries(campaign=campaign, count=8)
    job = make_job(campaign=campaign)

    ids = cards_issue(job=job, beneficiaries=iter(people))

    assert ids == [p.pk for p in people]
    assert sorted(Card.objects.filter(job=job).values_list("beneficiary_id", flat=True)) == ids
    assert Card.objects.filter(job=job).values("code").distinct().count() == 8


def test_a_refused_beneficiary_in_a_later_batch_leaves_no_card_at_all(monkeypatch):
    monkeypatch.setattr(issuing, "ISSUE_BATCH", 2)
    program = make_program()
    campaign, other = make_campaign(program=program), make_campaign(program=program)
    people = [*make_beneficiaries(campaign=campaign, count=5), make_beneficiary(campaign=other)]

    with pytest.raises(ValueError, match=f"beneficiary {people[-1].pk}"):
        cards_issue(job=make_job(campaign=campaign), beneficiaries=iter(people))

    assert not Card.objects.exists()


def test_beneficiary_listed_twice_is_refused():
    campaign = make_campaign(program=make_program())
    person = make_beneficiary(campaign=campaign)
    with pytest.raises(ValueError, match="listed twice"):
        cards_assign(job=make_job(campaign=campaign), beneficiaries=[person, person])


def test_cards_after_rotation_use_the_new_key():
    campaign = make_campaign(program=make_program())
    signing_key_for(program=campaign.program)
    new_key = signing_key_rotate(program=campaign.program)
    card = _one_card(campaign)
    assert card_token_verify(
        code=card.code, token=card.token, public_keys={new_key.kid: public_key_bytes(new_key)}
    )


def test_cards_are_scoped_to_their_program():
    program, other = make_program(), make_program()
    campaign = make_campaign(program=program)
    _one_card(campaign)
    assert Card.objects.for_program(program).count() == 1
    assert Card.objects.for_program(other).count() == 0


def test_card_status_follows_revocation_and_expiry():
    campaign = make_campaign(program=make_program(), card_validity_months=1)
    card = _one_card(campaign)
    assert card.status_on(card.issued_on) == Card.Status.VALID
    assert card.status_on(add_months(card.issued_on, 2)) == Card.Status.EXPIRED
    card.revoked_at = datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC"))
    assert card.status_on(card.issued_on) == Card.Status.REVOKED
