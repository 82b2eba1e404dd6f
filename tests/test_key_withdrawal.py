"""A program withdraws a leaked signing key: its cards answer "withdrawn" online and in the
JWKS, the active key is rotated first, and one click starts the reissue of its cards."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Job, Role
from campaigns.services import quota_balance
from cards.key_reissue import cards_signed_by, key_reissue_create
from cards.models import Card, SigningKey
from cards.signing_keys import (
    KeyStateConflict,
    all_jwks,
    signing_key_for,
    signing_key_rotate,
    signing_key_withdraw,
)
from cards.validity import card_status
from tests.factories import (
    api_client,
    make_api_key,
    make_beneficiary,
    make_campaign,
    make_card,
    make_program,
    make_user,
)

pytestmark = pytest.mark.django_db


def _program_with_card():
    program = make_program()
    campaign = make_campaign(program=program)
    return program, make_card(campaign=campaign)


def test_withdrawing_the_active_key_rotates_first_and_keeps_one_active_key():
    program, _card = _program_with_card()
    key = signing_key_for(program=program)

    signing_key_withdraw(key=key, reason="laptop stolen")

    key.refresh_from_db()
    assert (key.status, key.withdrawn_reason) == ("withdrawn", "laptop stolen")
    active = SigningKey.objects.get(program=program, retired_at__isnull=True)
    assert active.pk != key.pk and active.status == "active"


def test_a_withdrawal_needs_a_reason():
    program, _card = _program_with_card()

    with pytest.raises(ValidationError) as caught:
        signing_key_withdraw(key=signing_key_for(program=program), reason="  ")

    assert "reason" in caught.value.message_dict


def test_a_key_is_withdrawn_once():
    program, _card = _program_with_card()
    key = signing_key_withdraw(key=signing_key_for(program=program), reason="leak")

    with pytest.raises(KeyStateConflict):
        signing_key_withdraw(key=key, reason="again")


def test_a_card_signed_by_a_withdrawn_key_is_withdrawn_and_a_newer_card_is_not():
    program, old = _program_with_card()
    signing_key_withdraw(key=signing_key_for(program=program), reason="leak")
    new = make_card(campaign=old.campaign)

    assert (card_status(old), card_status(new)) == ("withdrawn", "valid")


def test_a_revoked_card_stays_revoked_after_its_key_is_withdrawn():
    program, card = _program_with_card()
    Card.objects.filter(pk=card.pk).update(revoked_at=timezone.now(), revoked_reason="lost")
    signing_key_withdraw(key=signing_key_for(program=program), reason="leak")

    assert card_status(Card.objects.get(pk=card.pk)) == "revoked"


def test_a_retired_key_can_be_withdrawn_and_the_active_key_stays():
    program, card = _program_with_card()
    old = signing_key_for(program=program)
    active = signing_key_rotate(program=program)

    signing_key_withdraw(key=old, reason="old backup found on a shared drive")

    assert signing_key_for(program=program).pk == active.pk
    assert card_status(card) == "withdrawn"


def test_the_jwks_says_which_key_is_withdrawn_and_since_when():
    program, _card = _program_with_card()
    key = signing_key_withdraw(key=signing_key_for(program=program), reason="leak")

    published = {k["kid"]: k for k in all_jwks()["keys"]}

    assert published[key.kid]["status"] == "withdrawn"
    assert published[key.kid]["withdrawn_on"] == key.withdrawn_at.date().isoformat()
    assert "leak" not in str(published)


def test_the_card_page_says_not_valid_key_withdrawn():
    program, card = _program_with_card()
    signing_key_withdraw(key=signing_key_for(program=program), reason="leak")

    html = Client().get(f"/v/c/{card.code}?lang=fr").content.decode()

    assert 'data-verdict="withdrawn"' in html
    assert "clé retirée" in html


def test_the_card_api_answers_withdrawn():
    program, card = _program_with_card()
    signing_key_withdraw(key=signing_key_for(program=program), reason="leak")

    body = api_client(make_api_key(program=program)).get(f"/api/cards/{card.code}").json()

    assert body["status"] == "withdrawn"


def test_the_reissue_starts_one_job_for_the_live_cards_the_key_signed():
    program, card = _program_with_card()
    other_person = make_beneficiary(campaign=card.campaign)
    key = signing_key_withdraw(key=signing_key_for(program=program), reason="leak")
    newer = make_card(campaign=card.campaign, beneficiary=other_person)  # the new key's
    before = quota_balance(program=program)

    result = key_reissue_create(key=key)

    (job,) = result.jobs
    assert (job.reissue, job.beneficiary_ids) == (True, [card.beneficiary_id])
    assert newer.beneficiary_id not in cards_signed_by(key=key).get(card.campaign_id, [])
    assert quota_balance(program=program) < before


def test_a_campaign_with_a_running_job_is_left_for_later_and_said_so():
    program, card = _program_with_card()
    key = signing_key_withdraw(key=signing_key_for(program=program), reason="leak")
    Job.objects.create(campaign=card.campaign, total_cards=1)

    result = key_reissue_create(key=key)

    assert result.jobs == []
    assert [campaign.pk for campaign, _message in result.skipped] == [card.campaign_id]


def test_the_admin_withdraws_with_a_reason_then_reissues(client):
    program, card = _program_with_card()
    key = signing_key_for(program=program)
    admin_user = make_user(program=program, role=Role.ADMIN, is_staff=True)
    admin_user.user_permissions.set(Permission.objects.filter(content_type__app_label="cards"))
    client.force_login(admin_user)
    url = reverse("admin:cards_signingkey_changelist")

    asked = client.post(url, {"action": "withdraw_keys", "_selected_action": [key.pk]})
    client.post(url, {"action": "withdraw_keys", "_selected_action": [key.pk], "confirm": "1",
                      "reason": "phone lost"})
    client.post(url, {"action": "reissue_withdrawn_cards", "_selected_action": [key.pk]})

    assert 'name="reason"' in asked.content.decode()
    key.refresh_from_db()
    assert (key.status, key.withdrawn_reason) == ("withdrawn", "phone lost")
    assert Job.objects.get(campaign=card.campaign).reissue is True


def test_an_operator_cannot_withdraw_a_key(client):
    program, _card = _program_with_card()
    key = signing_key_for(program=program)
    operator = make_user(program=program, role=Role.OPERATOR, is_staff=True)
    operator.user_permissions.set(Permission.objects.filter(content_type__app_label="cards"))
    client.force_login(operator)

    client.post(reverse("admin:cards_signingkey_changelist"), {
        "action": "withdraw_keys", "_selected_action": [key.pk], "confirm": "1",
        "reason": "not mine to say"})

    key.refresh_from_db()
    assert key.status == "active"
