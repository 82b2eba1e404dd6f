"""One valid card per person per campaign: a new job cards only those without one and says
how many it left out; a reissue replaces cards on purpose; the quota pays for new cards only."""

import threading
from collections import Counter
from datetime import date, timedelta

import django_rq
import pytest
from django.db import IntegrityError, connection
from django.utils import timezone

from campaigns.models import Job, Role
from campaigns.services import quota_balance
from cards import generation, tasks
from cards.models import Card
from cards.revocation import CardStateConflict, card_unrevoke
from tests.factories import (
    api_client,
    make_api_key,
    make_beneficiary,
    make_campaign,
    make_card,
    make_program,
    make_user,
)

pytestmark = pytest.mark.django_db(transaction=True)


def run_jobs():
    django_rq.get_worker("cards").work(burst=True)


def campaign_with(program, count):
    campaign = make_campaign(program=program)
    for i in range(count):
        make_beneficiary(campaign=campaign, first_name=f"Awa{i}", external_id=f"E{i:05d}")
    return campaign


def start_job(key, campaign, **body):
    return api_client(key).post(f"/api/campaigns/{campaign.pk}/jobs", body, format="json")


def valid_cards_per_person(campaign):
    today = date.today()
    return Counter(
        card.beneficiary_id for card in Card.objects.filter(campaign=campaign)
        if card.status_on(today) == Card.Status.VALID
    )


@pytest.mark.slow
def test_two_jobs_in_a_row_never_leave_anyone_with_two_valid_cards():
    program = make_program()
    key = make_api_key(program=program)
    campaign = campaign_with(program, 3)
    assert start_job(key, campaign).status_code == 202
    run_jobs()
    make_beneficiary(campaign=campaign, first_name="Late")
    assert start_job(key, campaign).status_code == 202
    run_jobs()
    assert set(valid_cards_per_person(campaign).values()) == {1}
    assert len(valid_cards_per_person(campaign)) == 4


def test_the_second_jobs_answer_says_how_many_were_left_out_and_why():
    program = make_program()
    key = make_api_key(program=program)
    campaign = campaign_with(program, 3)
    start_job(key, campaign)
    run_jobs()
    make_beneficiary(campaign=campaign, first_name="Late")
    body = start_job(key, campaign).json()
    assert body["skipped"] == {"valid_card": 3}
    assert body["total_cards"] == 1


def test_the_quota_is_charged_for_new_cards_only():
    program = make_program(quota=100)
    key = make_api_key(program=program)
    campaign = campaign_with(program, 3)
    start_job(key, campaign)
    run_jobs()
    make_beneficiary(campaign=campaign, first_name="Late")
    assert start_job(key, campaign).json()["quota_units"] == 1
    assert quota_balance(program=program) == 100 - 3 - 1


def test_a_job_for_people_who_all_hold_a_valid_card_is_400_and_charges_nothing():
    program = make_program(quota=100)
    key = make_api_key(program=program)
    campaign = campaign_with(program, 2)
    start_job(key, campaign)
    run_jobs()
    response = start_job(key, campaign)
    assert response.status_code == 400
    assert "beneficiaries" in response.json()["fields"]
    assert quota_balance(program=program) == 98


def test_chosen_ids_leave_out_the_holders_of_a_valid_card():
    program = make_program()
    campaign = make_campaign(program=program)
    holder, other = make_beneficiary(campaign=campaign), make_beneficiary(campaign=campaign)
    make_card(campaign=campaign, beneficiary=holder)
    job = generation.job_create(campaign=campaign, beneficiary_ids=[holder.pk, other.pk])
    assert (job.beneficiary_ids, job.total_cards, job.skipped_valid_card) == ([other.pk], 1, 1)


def test_the_schema_documents_skipped_and_reissue():
    schema = api_client(make_api_key(program=make_program())).get(
        "/api/schema/?format=json").json()["components"]["schemas"]
    assert "valid_card" in schema["JobSkipped"]["properties"]
    assert "reissue" in schema["JobCreateInputRequest"]["properties"]


def test_the_holder_of_a_revoked_card_gets_a_new_card_in_a_normal_job():
    program = make_program()
    campaign = make_campaign(program=program)
    person = make_beneficiary(campaign=campaign)
    make_card(campaign=campaign, beneficiary=person, revoked_at=timezone.now(),
              revoked_reason="lost")
    job = generation.job_create(campaign=campaign)
    run_jobs()
    assert (job.total_cards, job.skipped_valid_card) == (1, 0)
    assert valid_cards_per_person(campaign) == {person.pk: 1}


def test_the_holder_of_an_expired_card_gets_a_new_one_and_the_old_stays_expired():
    program = make_program()
    campaign = make_campaign(program=program)
    person = make_beneficiary(campaign=campaign)
    old = make_card(campaign=campaign, beneficiary=person,
                    issued_on=date.today() - timedelta(days=400),
                    expires_on=date.today() - timedelta(days=1))
    generation.job_create(campaign=campaign)
    run_jobs()
    old.refresh_from_db()
    assert old.superseded_at is not None
    assert old.status_on(date.today()) == Card.Status.EXPIRED
    assert valid_cards_per_person(campaign) == {person.pk: 1}


def test_a_reissue_revokes_the_old_card_as_reissued_and_the_new_one_refers_to_it():
    program = make_program()
    key = make_api_key(program=program)
    campaign = make_campaign(program=program)
    person = make_beneficiary(campaign=campaign)
    old = make_card(campaign=campaign, beneficiary=person)
    response = start_job(key, campaign, reissue=True, beneficiaries=[person.pk])
    assert response.status_code == 202
    run_jobs()
    old.refresh_from_db()
    new = Card.objects.get(job_id=response.json()["id"])
    assert (old.revoked_reason, new.reissue_of_id) == ("reissued", old.pk)
    assert valid_cards_per_person(campaign) == {person.pk: 1}


def test_a_reissue_charges_the_reissued_cards_only():
    program = make_program(quota=100)
    key = make_api_key(program=program)
    campaign = campaign_with(program, 3)
    start_job(key, campaign)
    run_jobs()
    person = campaign.beneficiaries.order_by("pk").first()
    body = start_job(key, campaign, reissue=True, beneficiaries=[person.pk]).json()
    assert (body["reissue"], body["total_cards"], body["quota_units"]) == (True, 1, 1)
    assert quota_balance(program=program) == 100 - 3 - 1


def test_a_reissue_without_ids_is_400_naming_the_field():
    program = make_program(quota=100)
    key = make_api_key(program=program)
    campaign = campaign_with(program, 2)
    response = start_job(key, campaign, reissue=True)
    assert response.status_code == 400
    assert "beneficiaries" in response.json()["fields"]
    assert quota_balance(program=program) == 100


def test_the_old_card_stays_valid_until_the_reissued_card_is_issued():
    program = make_program()
    campaign = make_campaign(program=program)
    person = make_beneficiary(campaign=campaign)
    old = make_card(campaign=campaign, beneficiary=person)
    generation.job_create(campaign=campaign, beneficiary_ids=[person.pk], reissue=True)
    old.refresh_from_db()
    assert old.revoked_at is None


def test_a_reissue_that_is_cancelled_after_issuing_gives_the_old_card_back():
    program = make_program()
    campaign = make_campaign(program=program)
    person = make_beneficiary(campaign=campaign)
    old = make_card(campaign=campaign, beneficiary=person)
    job = generation.job_create(campaign=campaign, beneficiary_ids=[person.pk], reissue=True)
    tasks.job_prepare(job.pk)  # issues the new card; its chunks are left queued
    assert Card.objects.get(pk=old.pk).revoked_reason == "reissued"
    generation.job_cancel(job=Job.objects.get(pk=job.pk))
    old.refresh_from_db()
    new = Card.objects.get(job=job)
    assert (old.revoked_at, new.revoked_reason) == (None, "job cancelled")
    assert valid_cards_per_person(campaign) == {person.pk: 1}


def test_after_a_cancelled_reissue_the_list_shows_the_card_that_is_valid_again():
    from campaigns.beneficiary_search import beneficiary_page

    program = make_program()
    campaign = make_campaign(program=program)
    person = make_beneficiary(campaign=campaign)
    old = make_card(campaign=campaign, beneficiary=person)
    job = generation.job_create(campaign=campaign, beneficiary_ids=[person.pk], reissue=True)
    tasks.job_prepare(job.pk)
    generation.job_cancel(job=Job.objects.get(pk=job.pk))
    rows, _total, _page = beneficiary_page(campaign=campaign, filters={}, page=1, page_size=50)
    assert [shown["card"].pk for _person, shown in rows] == [old.pk]


def test_the_database_refuses_a_second_live_card_for_a_person():
    program = make_program()
    campaign = make_campaign(program=program)
    person = make_beneficiary(campaign=campaign)
    make_card(campaign=campaign, beneficiary=person)
    with pytest.raises(IntegrityError):
        make_card(campaign=campaign, beneficiary=person)


@pytest.mark.django_db  # in a transaction: the dropped index comes back on rollback
def test_the_migration_keeps_one_card_of_people_carded_twice_before_the_rule():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("cards.migrations.0003_one_live_card_per_beneficiary")
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX one_live_card_per_beneficiary")
    campaign = make_campaign(program=make_program())
    person = make_beneficiary(campaign=campaign)
    completed = make_card(campaign=campaign, beneficiary=person,
                          job=Job.objects.create(campaign=campaign, status="completed"))
    failed = make_card(campaign=campaign, beneficiary=person,
                       job=Job.objects.create(campaign=campaign, status="failed"))
    migration.revoke_duplicates(apps, None)
    completed.refresh_from_db()
    failed.refresh_from_db()
    assert (completed.revoked_at, failed.revoked_reason) == (None, "reissued")


def test_a_reissued_card_cannot_be_made_valid_again():
    program = make_program()
    campaign = make_campaign(program=program)
    person = make_beneficiary(campaign=campaign)
    old = make_card(campaign=campaign, beneficiary=person, revoked_at=timezone.now(),
                    revoked_reason="reissued")
    make_card(campaign=campaign, beneficiary=person)
    with pytest.raises(CardStateConflict):
        card_unrevoke(card=old)


@pytest.mark.slow
def test_two_jobs_accepted_at_once_card_nobody_twice():
    program = make_program()
    campaign = campaign_with(program, 3)
    barrier, outcomes = threading.Barrier(2), []

    def accept():
        barrier.wait()
        try:
            outcomes.append(generation.job_create(campaign=campaign))
        except generation.JobConflict as exc:
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run_jobs()
    assert sorted(type(o).__name__ for o in outcomes) == ["Job", "JobConflict"]
    assert set(valid_cards_per_person(campaign).values()) == {1}


# ---------------------------------------------------------------- browser


def logged_in(client, program):
    client.force_login(make_user(program=program, role=Role.OPERATOR))
    return client


def test_the_campaign_page_says_who_is_left_out_before_anything_is_charged(client):
    program = make_program()
    campaign = make_campaign(program=program)
    make_card(campaign=campaign, beneficiary=make_beneficiary(campaign=campaign))
    make_beneficiary(campaign=campaign, first_name="New")
    page = logged_in(client, program).get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "1 bénéficiaire a déjà une carte valide et sera laissé de côté ; nouvelles cartes : 1." \
        in page


def test_the_reissue_button_on_a_persons_row_starts_a_reissue_job(client):
    program = make_program(quota=100)
    campaign = make_campaign(program=program)
    person = make_beneficiary(campaign=campaign)
    make_card(campaign=campaign, beneficiary=person)
    client = logged_in(client, program)
    page = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'name="reissue" value="1"' in page
    assert f'name="beneficiaries" value="{person.pk}"' in page
    response = client.post(f"/campaigns/{campaign.pk}/generate/",
                           {"reissue": "1", "beneficiaries": str(person.pk)})
    job = Job.objects.get(campaign=campaign)
    assert response.url == f"/jobs/{job.pk}/"
    assert (job.reissue, job.beneficiary_ids, quota_balance(program=program)) == (
        True, [person.pk], 99
    )


def test_the_generation_form_tells_how_many_were_left_out(client):
    program = make_program()
    campaign = make_campaign(program=program)
    make_card(campaign=campaign, beneficiary=make_beneficiary(campaign=campaign))
    make_beneficiary(campaign=campaign, first_name="New")
    response = logged_in(client, program).post(f"/campaigns/{campaign.pk}/generate/",
                                               follow=True)
    assert "1 bénéficiaire a déjà une carte valide et a été laissé de côté (non facturé)." in (
        response.content.decode()
    )


def test_reissue_the_selected_cards_starts_one_reissue_job_for_the_selection(client):
    program = make_program(quota=100)
    campaign = make_campaign(program=program)
    people = [make_beneficiary(campaign=campaign, first_name=f"P{i}") for i in range(3)]
    for person in people:
        make_card(campaign=campaign, beneficiary=person)
    client = logged_in(client, program)
    page = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'id="reissue-selection"' in page and 'form="reissue-selection"' in page
    chosen = [people[0].pk, people[2].pk]
    client.post(f"/campaigns/{campaign.pk}/generate/",
                {"reissue": "1", "beneficiaries": [str(pk) for pk in chosen]})
    job = Job.objects.get(campaign=campaign)
    assert (job.reissue, job.beneficiary_ids, job.total_cards) == (True, chosen, 2)
