"""The public card page as the server renders it (the token check is in
test_verification_browser.py), the staff's revoke forms, and the cards/keys admin."""

from datetime import date, timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from campaigns.models import CampaignType, Role
from cards.models import Card, SigningKey
from cards.revocation import card_revoke
from cards.signing_keys import signing_key_for
from tests.factories import (
    make_beneficiary,
    make_campaign,
    make_card,
    make_program,
    make_user,
)

pytestmark = pytest.mark.django_db


def _card(*, language="fr", campaign_type=CampaignType.VACCINATION, **card_fields):
    program = make_program(name="Programme élargi de vaccination")
    campaign = make_campaign(program=program, language=language, campaign_type=campaign_type,
                             name="Rougeole Dakar 2026")
    person = make_beneficiary(campaign=campaign, first_name="Mariama", last_name="Sarr",
                              date_of_birth=date(1987, 3, 9), phone="+221770000001")
    card_fields.setdefault("expires_on", date.today() + timedelta(days=365))
    return make_card(campaign=campaign, beneficiary=person, **card_fields)


def _logged_in(user, **client_options):
    client = Client(**client_options)
    client.force_login(user)
    return client


# Public page ------------------------------------------------------------------------------


def test_card_page_without_token_shows_the_status_and_no_personal_data():
    card = _card()

    response = Client().get(f"/v/c/{card.code}")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-verdict="valid"' in html
    assert card.code in html
    assert "Programme élargi de vaccination" in html
    for personal in ("Mariama", "Sarr", "09/03/1987", "1987", "770000001", card.token[:20]):
        assert personal not in html, personal
    assert response["Cache-Control"] == "no-store"


def test_card_page_embeds_the_programs_public_keys_for_the_browser_check():
    card = _card()
    key = signing_key_for(program=card.campaign.program)

    html = Client().get(f"/v/c/{card.code}").content.decode()

    assert key.public_key in html
    assert key.kid in html


def test_card_page_says_when_a_card_was_revoked():
    card = _card()
    card_revoke(card=card, reason="Carte perdue")

    response = Client().get(f"/v/c/{card.code}")

    html = response.content.decode()
    assert 'data-verdict="revoked"' in html
    assert date.today().strftime("%d/%m/%Y") in html
    # The reason may say more than the public needs: staff see it in the API and admin.
    assert "Carte perdue" not in html


def test_card_page_says_when_a_card_has_expired():
    card = _card(issued_on=date(2024, 1, 1), expires_on=date(2024, 12, 31))

    html = Client().get(f"/v/c/{card.code}").content.decode()

    assert 'data-verdict="expired"' in html
    assert "31/12/2024" in html


def test_an_unknown_code_answers_unknown_with_404():
    response = Client().get("/v/c/DKR-VAC-ZZZZZZZZ")

    assert response.status_code == 404
    assert 'data-verdict="unknown"' in response.content.decode()


def test_card_page_is_in_the_campaigns_language_unless_asked_otherwise():
    card = _card(language="wo")

    default = Client().get(f"/v/c/{card.code}")
    asked = Client().get(f"/v/c/{card.code}?lang=en")

    assert '<html lang="wo">' in default.content.decode()
    assert default["Content-Language"] == "wo"
    assert '<html lang="en">' in asked.content.decode()
    assert 'href="?lang=fr"' in asked.content.decode()


def test_card_page_hides_the_name_of_a_sensitive_campaign():
    card = _card(campaign_type=CampaignType.HIV)

    html = Client().get(f"/v/c/{card.code}").content.decode()

    assert "Rougeole Dakar 2026" not in html
    assert 'data-verdict="valid"' in html


def test_card_page_accepts_a_lower_case_code_and_a_trailing_slash():
    card = _card()

    response = Client().get(f"/v/c/{card.code.lower()}/")

    assert response.status_code == 200
    assert card.code in response.content.decode()


def test_the_lookup_page_offers_a_code_field():
    response = Client().get("/v/")

    assert response.status_code == 200
    assert 'name="code"' in response.content.decode()


def test_card_page_runs_only_its_own_scripts():
    card = _card()

    policy = Client().get(f"/v/c/{card.code}")["Content-Security-Policy"]

    assert "script-src 'self'" in policy
    assert "default-src 'none'" in policy


def test_the_lookup_form_goes_to_the_cards_page():
    card = _card()

    response = Client().get("/v/", {"code": f" {card.code.lower()} ", "lang": "en"})

    assert response.status_code == 302
    assert response["Location"] == f"/v/c/{card.code}?lang=en"


def test_the_lookup_form_answers_unknown_for_a_code_no_card_could_have():
    response = Client().get("/v/", {"code": "<script>"})

    assert response.status_code == 404
    assert 'data-verdict="unknown"' in response.content.decode()


# Revoke form (linked from the campaign page) ------------------------------------------------


def test_an_operator_revokes_a_card_from_the_form_and_goes_back():
    card = _card()
    client = _logged_in(make_user(program=card.campaign.program, role=Role.OPERATOR))
    back = reverse("campaign-detail", args=[card.campaign_id])

    response = client.post(f"/cards/{card.code}/revoke", {"reason": "Carte volée", "next": back})

    assert response.status_code == 302
    assert response["Location"] == back
    card.refresh_from_db()
    assert card.revoked_reason == "Carte volée"
    assert card.revoked_at is not None


def test_the_revoke_form_goes_back_to_the_campaign_when_next_is_foreign():
    card = _card()
    client = _logged_in(make_user(program=card.campaign.program, role=Role.ADMIN))

    response = client.post(f"/cards/{card.code}/revoke",
                           {"reason": "lost", "next": "https://evil.example/"})

    assert response["Location"] == reverse("campaign-detail", args=[card.campaign_id])


def test_the_revoke_form_refuses_a_missing_reason():
    card = _card()
    client = _logged_in(make_user(program=card.campaign.program, role=Role.OPERATOR))

    response = client.post(f"/cards/{card.code}/revoke", {"reason": ""})

    assert response.status_code == 302
    card.refresh_from_db()
    assert card.revoked_at is None
    (message,) = get_messages(response.wsgi_request)
    assert message.level_tag == "error"
    assert card.code in str(message)


def test_a_viewer_cannot_use_the_revoke_form():
    card = _card()
    client = _logged_in(make_user(program=card.campaign.program, role=Role.VIEWER))

    response = client.post(f"/cards/{card.code}/revoke", {"reason": "lost"})

    assert response.status_code == 403
    card.refresh_from_db()
    assert card.revoked_at is None


def test_another_programs_card_is_not_found_by_the_form():
    card = _card()
    client = _logged_in(make_user(program=make_program(), role=Role.ADMIN))

    assert client.post(f"/cards/{card.code}/revoke", {"reason": "lost"}).status_code == 404


def test_the_revoke_form_needs_a_login_and_a_csrf_token():
    card = _card()
    anonymous = Client().post(f"/cards/{card.code}/revoke", {"reason": "lost"})
    user = make_user(program=card.campaign.program, role=Role.ADMIN)
    without_csrf = _logged_in(user, enforce_csrf_checks=True).post(
        f"/cards/{card.code}/revoke", {"reason": "lost"}
    )

    assert anonymous.status_code == 302
    assert "/login/" in anonymous["Location"]
    assert without_csrf.status_code == 403
    card.refresh_from_db()
    assert card.revoked_at is None


def test_the_unrevoke_form_makes_the_card_valid_again():
    card = _card()
    card_revoke(card=card, reason="mistake")
    client = _logged_in(make_user(program=card.campaign.program, role=Role.OPERATOR))

    response = client.post(f"/cards/{card.code}/unrevoke")

    assert response.status_code == 302
    card.refresh_from_db()
    assert card.revoked_at is None


# Admin ------------------------------------------------------------------------------------


def _superuser_client():
    return _logged_in(make_user(is_staff=True, is_superuser=True))


def test_card_admin_lists_and_finds_a_card_by_code():
    card = _card()
    other = _card()
    client = _superuser_client()

    response = client.get(reverse("admin:cards_card_changelist"), {"q": card.code})

    assert response.status_code == 200
    html = response.content.decode()
    assert card.code in html
    assert other.code not in html
    assert client.get(reverse("admin:cards_card_change", args=[card.pk])).status_code == 200


def test_card_admin_filters_by_status():
    card = _card()
    revoked = _card()
    card_revoke(card=revoked, reason="lost")

    html = _superuser_client().get(
        reverse("admin:cards_card_changelist"), {"status": "revoked"}
    ).content.decode()

    assert revoked.code in html
    assert card.code not in html


def test_card_admin_actions_revoke_and_unrevoke():
    card = _card()
    client = _superuser_client()
    url = reverse("admin:cards_card_changelist")

    client.post(url, {"action": "revoke_cards", "_selected_action": [card.pk]})
    card.refresh_from_db()
    assert card.revoked_reason == "revoked by admin"
    assert card.revoked_at is not None

    client.post(url, {"action": "unrevoke_cards", "_selected_action": [card.pk]})
    card.refresh_from_db()
    assert card.revoked_at is None


def test_card_admin_shows_staff_only_their_programs_cards():
    mine, theirs = _card(), _card()
    user = make_user(program=mine.campaign.program, role=Role.ADMIN, is_staff=True)
    from django.contrib.auth.models import Permission

    user.user_permissions.set(Permission.objects.filter(content_type__app_label="cards"))
    client = _logged_in(user)

    html = client.get(reverse("admin:cards_card_changelist")).content.decode()
    client.post(reverse("admin:cards_card_changelist"),
                {"action": "revoke_cards", "_selected_action": [theirs.pk]})

    assert mine.code in html
    assert theirs.code not in html
    assert Card.objects.get(pk=theirs.pk).revoked_at is None


def test_signing_key_admin_is_read_only_and_rotates_keys():
    card = _card()
    program = card.campaign.program
    key = signing_key_for(program=program)
    client = _superuser_client()
    url = reverse("admin:cards_signingkey_changelist")

    assert client.get(url).status_code == 200
    assert client.get(reverse("admin:cards_signingkey_change", args=[key.pk])
                      ).status_code == 200
    client.post(url, {"action": "rotate_keys", "_selected_action": [key.pk]})

    key.refresh_from_db()
    assert key.status == "retired"
    assert SigningKey.objects.get(program=program, retired_at__isnull=True).pk != key.pk
