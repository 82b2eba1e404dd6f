"""The back-office: every model has a working admin, the ledger is read-only, keys are
created by the service and shown once, and staff who are not superusers see their own
programs only (and HIV beneficiaries only with the sensitive grant)."""

import re

import pytest

from campaigns.models import (
    ApiKey,
    Beneficiary,
    Campaign,
    CampaignType,
    Job,
    Program,
    QuotaTransaction,
    Role,
)
from campaigns.services import api_key_create, quota_balance
from tests.admin_helpers import admin_url, campaigns_models, staff_client, superuser_client
from tests.factories import (
    api_client,
    make_beneficiary,
    make_campaign,
    make_job,
    make_program,
    make_user,
)

pytestmark = pytest.mark.django_db


def test_every_campaigns_model_has_a_changelist_that_loads_for_a_superuser():
    program = make_program()
    campaign = make_campaign(program=program)
    make_beneficiary(campaign=campaign)
    make_job(campaign=campaign, total_cards=1)
    api_key_create(program=program, name="dhis2")
    client = superuser_client()

    for model in campaigns_models():
        response = client.get(admin_url(model))
        assert response.status_code == 200, model.__name__


def test_change_pages_load_for_a_superuser():
    program = make_program()
    campaign = make_campaign(program=program)
    beneficiary = make_beneficiary(campaign=campaign)
    job = make_job(campaign=campaign, total_cards=1)
    key, _raw = api_key_create(program=program, name="dhis2")
    client = superuser_client()

    for obj in (program, campaign, beneficiary, job, key, QuotaTransaction.objects.first()):
        response = client.get(admin_url(type(obj), "change", obj.pk))
        assert response.status_code == 200, type(obj).__name__


def test_program_page_shows_the_quota_balance_and_recent_ledger():
    program = make_program(quota=12_345)
    response = superuser_client().get(admin_url(type(program), "change", program.pk))
    assert "12345" in response.content.decode()
    assert "Initial plan" in response.content.decode()


def test_superuser_creates_a_program_with_its_initial_quota_grant():
    response = superuser_client().post(
        admin_url(Program, "add"),
        {
            "name": "PEV Thiès", "slug": "pev-thies", "country": "SN",
            "timezone": "Africa/Dakar", "brand_colour": "#0EA5E9", "plan": "standard",
            "grant_units": "5000", "grant_note": "",
            "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    program = Program.objects.get(slug="pev-thies")
    assert quota_balance(program=program) == 5000


def test_quota_ledger_cannot_be_added_changed_or_deleted_in_the_admin():
    program = make_program(quota=100)
    row = QuotaTransaction.objects.get(program=program)
    client = superuser_client()

    assert client.get(admin_url(QuotaTransaction, "add")).status_code == 403
    change = client.post(
        admin_url(QuotaTransaction, "change", row.pk),
        {"program": program.pk, "kind": "grant", "units": "999999", "note": "x"},
    )
    assert change.status_code == 403
    assert client.post(admin_url(QuotaTransaction, "delete", row.pk), {"post": "yes"}).status_code \
        == 403
    row.refresh_from_db()
    assert row.units == 100


def test_ledger_changelist_offers_no_delete_action():
    make_program(quota=100)
    response = superuser_client().get(admin_url(QuotaTransaction))
    assert "delete_selected" not in response.content.decode()


def test_revoke_action_revokes_the_selected_keys():
    program = make_program()
    key, raw = api_key_create(program=program, name="old")
    other, _raw = api_key_create(program=program, name="kept")

    superuser_client().post(
        admin_url(ApiKey), {"action": "revoke_keys", "_selected_action": [key.pk]}
    )

    key.refresh_from_db()
    other.refresh_from_db()
    assert key.revoked_at is not None
    assert other.revoked_at is None
    assert api_client(raw).get("/api/me").status_code == 401


def test_api_key_added_in_admin_is_shown_once_and_stored_hashed():
    program = make_program()
    client = superuser_client()

    response = client.post(
        admin_url(ApiKey, "add"),
        {"program": program.pk, "name": "DHIS2 app", "role": "operator"},
        follow=True,
    )

    shown = re.findall(r"cid_[A-Za-z0-9_-]{20,}", response.content.decode())
    assert len(shown) == 1
    raw = shown[0]
    key = ApiKey.objects.get(name="DHIS2 app")
    assert key.hashed_key == ApiKey.hash(raw)
    assert raw not in (key.hashed_key, key.prefix)
    assert api_client(raw).get("/api/me").json()["role"] == "operator"
    again = client.get(admin_url(ApiKey, "change", key.pk)).content.decode()
    assert raw not in again
    assert key.hashed_key not in again


def test_staff_member_sees_only_the_rows_of_their_own_programs():
    mine = make_program(name="Mine PEV")
    theirs = make_program(name="Theirs MILD")
    make_campaign(program=mine, name="Campagne mienne")
    make_campaign(program=theirs, name="Campagne autre")
    api_key_create(program=theirs, name="their-key")
    client = staff_client(program=mine)

    programs = client.get(admin_url(Program)).content.decode()
    campaigns = client.get(admin_url(Campaign)).content.decode()
    keys = client.get(admin_url(ApiKey)).content.decode()
    ledger = client.get(admin_url(QuotaTransaction)).content.decode()

    assert "Mine PEV" in programs and "Theirs MILD" not in programs
    assert "Campagne mienne" in campaigns and "Campagne autre" not in campaigns
    assert "their-key" not in keys
    assert "Theirs MILD" not in ledger


def test_staff_member_cannot_open_another_programs_campaign():
    theirs = make_program()
    campaign = make_campaign(program=theirs)
    client = staff_client(program=make_program())
    response = client.get(admin_url(Campaign, "change", campaign.pk))
    assert response.status_code == 302  # the admin's "does not exist" redirect
    assert Campaign.objects.filter(pk=campaign.pk).exists()


def test_superuser_sees_every_program():
    make_program(name="Alpha programme")
    make_program(name="Beta programme")
    body = superuser_client().get(admin_url(Program)).content.decode()
    assert "Alpha programme" in body and "Beta programme" in body


def test_viewer_membership_gets_read_only_pages():
    program = make_program()
    campaign = make_campaign(program=program, name="Avant")
    client = staff_client(program=program, role=Role.VIEWER)

    response = client.post(
        admin_url(Campaign, "change", campaign.pk), {"name": "Après", "language": "fr"}
    )

    campaign.refresh_from_db()
    assert response.status_code == 403
    assert campaign.name == "Avant"


def test_hiv_beneficiaries_are_hidden_without_the_sensitive_grant():
    program = make_program()
    hiv = make_campaign(program=program, campaign_type=CampaignType.HIV)
    make_beneficiary(campaign=hiv, last_name="Confidentiel")
    make_beneficiary(campaign=make_campaign(program=program), last_name="Ordinaire")

    body = staff_client(program=program).get(admin_url(Beneficiary)).content.decode()

    assert "Ordinaire" in body
    assert "Confidentiel" not in body


def test_hiv_beneficiaries_are_visible_with_the_sensitive_grant():
    program = make_program()
    hiv = make_campaign(program=program, campaign_type=CampaignType.HIV)
    make_beneficiary(campaign=hiv, last_name="Confidentiel")

    client = staff_client(program=program, can_view_sensitive=True)

    assert "Confidentiel" in client.get(admin_url(Beneficiary)).content.decode()


def test_archive_and_restore_actions_use_the_campaign_lifecycle():
    program = make_program()
    campaign = make_campaign(program=program)
    client = superuser_client()

    client.post(admin_url(Campaign), {"action": "archive_campaigns",
                                      "_selected_action": [campaign.pk]})
    campaign.refresh_from_db()
    assert campaign.archived_at is not None

    Campaign.objects.filter(pk=campaign.pk).update(deleted_at=campaign.archived_at)
    client.post(admin_url(Campaign), {"action": "restore_campaigns",
                                      "_selected_action": [campaign.pk]})
    campaign.refresh_from_db()
    assert campaign.deleted_at is None


def test_campaign_added_in_admin_goes_through_the_lifecycle_service():
    program = make_program()
    response = superuser_client().post(
        admin_url(Campaign, "add"),
        {"program": program.pk, "name": "PEV Dakar", "campaign_type": "vaccination",
         "prefix": "dkr-vac", "language": "fr", "template_id": "", "dpi": "300",
         "card_validity_months": "", "description": "", "template_options": "{}"},
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get(name="PEV Dakar")
    assert campaign.prefix == "DKR-VAC"
    assert campaign.template_id == "vaccination"


def test_staff_member_cannot_pick_another_program_for_a_new_key():
    theirs = make_program()
    client = staff_client(program=make_program())
    response = client.post(admin_url(ApiKey, "add"), {"program": theirs.pk, "name": "sneaky",
                                                      "role": "admin"})
    assert response.status_code == 200  # the form comes back with an error
    assert not ApiKey.objects.filter(name="sneaky").exists()


def test_membership_added_on_the_program_page():
    program = make_program(quota=10)
    newcomer = make_user()
    response = superuser_client().post(
        admin_url(Program, "change", program.pk),
        {
            "name": program.name, "country": "SN", "timezone": "Africa/Dakar",
            "brand_colour": "#0EA5E9", "plan": "standard", "grant_units": "", "grant_note": "",
            "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "0",
            "memberships-0-user": newcomer.pk, "memberships-0-role": "viewer",
        },
    )
    assert response.status_code == 302
    assert newcomer.memberships.get().role == "viewer"
    assert quota_balance(program=program) == 10


def test_job_and_beneficiary_searches_accept_any_text():
    program = make_program()
    campaign = make_campaign(program=program)
    make_job(campaign=campaign)
    client = superuser_client()
    assert client.get(admin_url(Job), {"q": "Dakar 12"}).status_code == 200
    assert client.get(admin_url(Beneficiary), {"q": "+221 77"}).status_code == 200


def test_beneficiary_phone_typed_in_admin_is_stored_in_e164():
    program = make_program()
    beneficiary = make_beneficiary(campaign=make_campaign(program=program))
    client = superuser_client()
    form = {
        "first_name": "Awa", "last_name": "Ndiaye", "date_of_birth": "2019-05-17", "sex": "F",
        "phone": "77 123 45 67", "external_id": beneficiary.external_id, "mpi_id": "",
        "attributes": "{}", "consent_whatsapp": "on", "consent_wallet": "on",
    }
    assert client.post(admin_url(Beneficiary, "change", beneficiary.pk), form).status_code == 302
    beneficiary.refresh_from_db()
    assert beneficiary.phone == "+221771234567"

    form["phone"] = "77 ABC"
    response = client.post(admin_url(Beneficiary, "change", beneficiary.pk), form)
    assert response.status_code == 200
    assert "le téléphone contient des lettres" in response.content.decode()


def test_cancel_action_cancels_unfinished_jobs_through_the_generation_service():
    campaign = make_campaign(program=make_program())
    running = make_job(campaign=campaign, status="generating", total_cards=10)
    done = make_job(campaign=campaign, status="completed", total_cards=10)

    superuser_client().post(
        admin_url(Job), {"action": "cancel_jobs", "_selected_action": [running.pk, done.pk]}
    )

    running.refresh_from_db()
    done.refresh_from_db()
    assert running.status == "cancelled"
    assert done.status == "completed"
