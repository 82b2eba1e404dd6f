"""The back-office keeps a program's data to its own staff: every admin is scoped to the staff
member's programs, a sensitive campaign's people (beneficiaries, cards, messages, DHIS2
skipped entities) show only with the "can view sensitive" grant, superusers included, and a
grant given in the admin goes through the service that records who gave it and when."""

import io
import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from campaigns.dhis2.models import Dhis2SyncRun, Dhis2SyncSkip
from campaigns.models import (
    ApiKey,
    Beneficiary,
    Campaign,
    CampaignType,
    JobChunk,
    Membership,
    Role,
)
from campaigns.services import membership_set
from cards.models import Card
from distribution.models import Message, ProviderIntegration
from tests.factories import (
    make_api_key,
    make_beneficiary,
    make_campaign,
    make_card,
    make_dhis2_connection,
    make_dhis2_link,
    make_dispatch,
    make_integration,
    make_job,
    make_message,
    make_program,
    make_user,
)

pytestmark = pytest.mark.django_db

APPS = ("campaigns", "dhis2", "cards", "distribution", "verification")
SMS_CONFIG = {"client_id": "orange-id", "client_secret": "orange-secret",
              "sender_address": "tel:+221770000001"}
PERSON_MODELS = (Beneficiary, Card, Message, Dhis2SyncSkip)


def url(model, view="changelist", *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def scoped_models():
    return [model for model in admin.site._registry if model._meta.app_label in APPS]


def staff(*, program=None, role=Role.ADMIN, can_view_sensitive=False, superuser=False):
    """A logged-in staff client: member of `program`, with every model permission of the
    project's apps (the membership then decides which rows and which writes)."""
    user = make_user(program=program, role=role, can_view_sensitive=can_view_sensitive,
                     is_staff=True, is_superuser=superuser)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=APPS))
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def fill(program, *, name="Ordinaire", **campaign_fields):
    """One row of every admin-registered model for `program`, its person named `name`."""
    campaign = make_campaign(program=program, **campaign_fields)
    person = make_beneficiary(campaign=campaign, last_name=name)
    job = make_job(campaign=campaign, total_cards=1)
    JobChunk.objects.create(job=job, index=0, first_card=0, card_count=1)
    card = make_card(campaign=campaign, beneficiary=person, job=job)
    make_message(card=card, dispatch=make_dispatch(campaign=campaign))
    run = Dhis2SyncRun.objects.create(campaign=campaign, status="completed", skipped_count=1)
    Dhis2SyncSkip.objects.create(run=run, page=1, tracked_entity=f"Te{name}", field="sex",
                                 reason="sex missing")
    make_dhis2_link(campaign=campaign, program_uid="IpHINAT79UW", org_unit_uid="DiszpKrYNg8",
                    mapping={"first_name": "w75KJ2mc4zz"})
    if not ProviderIntegration.objects.filter(program=program).exists():
        make_integration(program=program, channel="sms", config=SMS_CONFIG)
        make_dhis2_connection(program=program, config={
            "base_url": "https://dhis2.example.org", "auth": "token", "token": "d2pat_x" * 5})
        make_user(program=program, username=f"member-of-{program.slug}")
        make_api_key(program=program, name=f"key-of-{program.slug}")
    return campaign


def rows_of(model, program):
    """`model`'s rows that belong to `program` (following the admin's own program path)."""
    path = admin.site._registry[model].program_field
    return set(model.objects.filter(**{path: program.pk}).values_list("pk", flat=True))


def listed(client, model, **query):
    response = client.get(url(model), query)
    assert response.status_code == 200, model.__name__
    return {row.pk for row in response.context["cl"].result_list}


def test_no_admin_lists_another_programs_rows():
    mine, theirs = make_program(), make_program()
    fill(mine)
    fill(theirs)
    client = staff(program=mine, can_view_sensitive=True)
    for model in scoped_models():
        their_rows = rows_of(model, theirs)
        assert their_rows, f"fill() makes no {model.__name__} row: add one"
        assert not listed(client, model) & their_rows, model.__name__


def test_no_admin_opens_another_programs_row():
    mine, theirs = make_program(), make_program()
    fill(mine)
    fill(theirs)
    client = staff(program=mine, can_view_sensitive=True)
    for model in scoped_models():
        for pk in rows_of(model, theirs):
            response = client.get(url(model, "change", pk))
            assert response.status_code == 302, model.__name__  # "does not exist"


def test_staff_do_not_see_another_programs_providers():
    theirs = make_program(name="Programme voisin")
    make_integration(program=theirs, channel="sms", config=SMS_CONFIG)
    body = staff(program=make_program()).get(url(ProviderIntegration)).content.decode()
    assert "Programme voisin" not in body


def test_staff_cannot_switch_off_another_programs_provider():
    integration = make_integration(program=make_program(), channel="sms", config=SMS_CONFIG)
    client = staff(program=make_program())
    client.post(url(ProviderIntegration, "change", integration.pk), {})
    integration.refresh_from_db()
    assert integration.enabled


def test_a_program_admin_switches_off_their_own_provider():
    program = make_program()
    integration = make_integration(program=program, channel="sms", config=SMS_CONFIG)
    response = staff(program=program).post(url(ProviderIntegration, "change", integration.pk),
                                            {})
    integration.refresh_from_db()
    assert response.status_code == 302
    assert not integration.enabled


def test_an_operator_cannot_switch_off_their_programs_provider():
    program = make_program()
    integration = make_integration(program=program, channel="sms", config=SMS_CONFIG)
    response = staff(program=program, role=Role.OPERATOR).post(
        url(ProviderIntegration, "change", integration.pk), {})
    integration.refresh_from_db()
    assert response.status_code == 403
    assert integration.enabled


@pytest.mark.parametrize("model", PERSON_MODELS, ids=lambda m: m.__name__)
def test_without_the_grant_no_person_row_of_an_hiv_campaign_shows(model):
    program = make_program()
    hiv = fill(program, name="Confidentiel", campaign_type=CampaignType.HIV)
    plain = fill(program)
    shown = listed(staff(program=program), model)
    assert not shown & rows_of_campaign(model, hiv)
    assert shown & rows_of_campaign(model, plain)


@pytest.mark.parametrize("model", PERSON_MODELS, ids=lambda m: m.__name__)
def test_a_superuser_without_the_grant_sees_no_person_row_of_an_hiv_campaign(model):
    hiv = fill(make_program(), name="Confidentiel", campaign_type=CampaignType.HIV)
    shown = listed(staff(superuser=True), model)
    assert not shown & rows_of_campaign(model, hiv)


@pytest.mark.parametrize("model", PERSON_MODELS, ids=lambda m: m.__name__)
def test_a_campaign_flagged_sensitive_hides_its_people_like_hiv(model):
    program = make_program()
    tb = fill(program, name="Confidentiel", campaign_type=CampaignType.VACCINATION,
              sensitive=True)
    assert not listed(staff(program=program), model) & rows_of_campaign(model, tb)


@pytest.mark.parametrize("model", PERSON_MODELS, ids=lambda m: m.__name__)
def test_the_grant_shows_the_person_rows_of_an_hiv_campaign(model):
    program = make_program()
    hiv = fill(program, name="Confidentiel", campaign_type=CampaignType.HIV)
    shown = listed(staff(program=program, can_view_sensitive=True), model)
    assert rows_of_campaign(model, hiv) <= shown


def rows_of_campaign(model, campaign):
    path = {Dhis2SyncSkip: "run__campaign"}.get(model, "campaign")
    return set(model.objects.filter(**{path: campaign}).values_list("pk", flat=True))


def test_a_search_does_not_reveal_a_hidden_person():
    program = make_program()
    hiv = fill(program, name="Confidentiel", campaign_type=CampaignType.HIV)
    client = staff(program=program)
    card = Card.objects.get(campaign=hiv)
    assert not listed(client, Beneficiary, q="Confidentiel")
    assert not listed(client, Card, q=card.code)
    assert not listed(client, Message, q=card.code)
    assert not listed(client, Dhis2SyncSkip, q="TeConfidentiel")


def test_a_hidden_persons_page_does_not_open():
    program = make_program()
    hiv = fill(program, name="Confidentiel", campaign_type=CampaignType.HIV)
    person = Beneficiary.objects.get(campaign=hiv)
    response = staff(program=program).get(url(Beneficiary, "change", person.pk), follow=True)
    assert "Confidentiel" not in response.content.decode()


def test_a_writer_without_the_grant_cannot_change_an_hiv_campaign():
    program = make_program()
    hiv = make_campaign(program=program, campaign_type=CampaignType.HIV, name="Avant")
    client = staff(program=program)
    response = client.post(url(Campaign, "change", hiv.pk), {"name": "Après", "language": "fr"})
    client.post(url(Campaign), {"action": "archive_campaigns", "_selected_action": [hiv.pk]})
    hiv.refresh_from_db()
    assert response.status_code == 403
    assert (hiv.name, hiv.archived_at) == ("Avant", None)


# Grants ------------------------------------------------------------------------------------


def membership_form(membership, **fields):
    return {"role": membership.role, "can_view_sensitive": "on", **fields}


def test_a_grant_given_in_the_admin_records_who_and_when():
    program = make_program()
    granter = staff(program=program)
    member = make_user(program=program).memberships.get()
    response = granter.post(url(Membership, "change", member.pk), membership_form(member))
    member.refresh_from_db()
    assert response.status_code == 302
    assert member.can_view_sensitive
    assert member.sensitive_granted_by == granter.user
    assert member.sensitive_granted_at is not None


def test_the_membership_page_shows_who_granted_read_only():
    program = make_program()
    granter = staff(program=program)
    member = make_user(program=program).memberships.get()
    granter.post(url(Membership, "change", member.pk), membership_form(member))
    page = granter.get(url(Membership, "change", member.pk)).content.decode()
    assert granter.user.username in page
    assert 'name="sensitive_granted_by"' not in page


def test_granting_oneself_is_refused_and_saves_nothing():
    program = make_program()
    client = staff(program=program)
    own = client.user.memberships.get()
    response = client.post(url(Membership, "change", own.pk), membership_form(own))
    own.refresh_from_db()
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["can_view_sensitive"]
    assert not own.can_view_sensitive


def test_a_superuser_who_is_not_the_programs_admin_cannot_grant():
    program = make_program()
    member = make_user(program=program).memberships.get()
    client = staff(superuser=True)
    response = client.post(url(Membership, "change", member.pk), membership_form(member))
    member.refresh_from_db()
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["can_view_sensitive"]
    assert not member.can_view_sensitive


def program_form(program, **memberships):
    form = {
        "name": program.name, "country": "SN", "timezone": "Africa/Dakar",
        "brand_colour": "#0EA5E9", "plan": "standard", "grant_units": "", "grant_note": "",
        "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "0",
    }
    form.update({f"memberships-0-{name}": value for name, value in memberships.items()})
    return form


def test_a_grant_on_the_program_pages_members_needs_a_program_admin():
    program = make_program()
    newcomer = make_user()
    client = staff(superuser=True)
    response = client.post(url(type(program), "change", program.pk), program_form(
        program, user=newcomer.pk, role="viewer", can_view_sensitive="on"))
    assert response.status_code == 200  # the inline row comes back with its error
    assert not Membership.objects.filter(user=newcomer).exists()


def test_a_grant_on_the_program_pages_members_is_recorded():
    program = make_program()
    newcomer = make_user()
    client = staff(superuser=True)
    membership_set(user=client.user, program=program, role=Role.ADMIN)
    response = client.post(url(type(program), "change", program.pk), program_form(
        program, user=newcomer.pk, role="viewer", can_view_sensitive="on"))
    membership = Membership.objects.get(user=newcomer)
    assert response.status_code == 302
    assert (membership.can_view_sensitive, membership.sensitive_granted_by) == (
        True, client.user)


def test_a_key_created_with_the_grant_records_who_granted_it():
    program = make_program()
    client = staff(program=program)
    response = client.post(url(ApiKey, "add"), {
        "program": program.pk, "name": "registre", "role": "viewer",
        "can_view_sensitive": "on"}, follow=True)
    key = ApiKey.objects.get(name="registre")
    assert re.search(r"cid_[A-Za-z0-9_-]{20,}", response.content.decode())
    assert (key.can_view_sensitive, key.sensitive_granted_by) == (True, client.user)
    assert key.sensitive_granted_at is not None


def test_a_key_with_the_grant_needs_a_program_admin():
    program = make_program()
    response = staff(superuser=True).post(url(ApiKey, "add"), {
        "program": program.pk, "name": "registre", "role": "viewer",
        "can_view_sensitive": "on"})
    assert response.status_code == 200
    assert not ApiKey.objects.filter(name="registre").exists()


def test_the_command_line_records_its_key_grant():
    program = make_program()
    call_command("create_api_key", program=program.slug, name="cli-sensitive", sensitive=True,
                 stdout=io.StringIO())
    key = ApiKey.objects.get(name="cli-sensitive")
    assert key.can_view_sensitive
    assert key.sensitive_granted_at is not None
    assert key.sensitive_granted_by is None


# The campaign's own flag -------------------------------------------------------------------


def campaign_form(campaign, **fields):
    return {"name": campaign.name, "language": "fr", "template_id": "", "dpi": "300",
            "card_validity_months": "", "description": "", "template_options": "{}", **fields}


def test_a_writer_flags_a_campaign_sensitive():
    program = make_program()
    campaign = make_campaign(program=program)
    response = staff(program=program).post(url(Campaign, "change", campaign.pk),
                                           campaign_form(campaign, sensitive="on"))
    campaign.refresh_from_db()
    assert response.status_code == 302
    assert campaign.sensitive


def test_an_hiv_campaigns_flag_is_read_only_and_on():
    program = make_program()
    hiv = make_campaign(program=program, campaign_type=CampaignType.HIV)
    client = staff(program=program, can_view_sensitive=True)
    page = client.get(url(Campaign, "change", hiv.pk)).content.decode()
    client.post(url(Campaign, "change", hiv.pk), campaign_form(hiv))  # no box: would be off
    hiv.refresh_from_db()
    assert 'name="sensitive"' not in page
    assert hiv.sensitive

