"""DHIS2 sync end to end: API -> RQ worker (queue dhis2) -> stub DHIS2 -> beneficiaries.

Paging in both answer shapes, incremental and full syncs, the import rules and the skipped
entities' CSV, 409 while a run is active, and each failure: 5xx mid-paging (retried, then
failed at the page it reached), timeout, refused credentials, a program gone from DHIS2.
"""

import csv
import io
from datetime import date, timedelta

import django_rq
import pytest
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from campaigns.dhis2.models import Dhis2SyncRun
from campaigns.dhis2.sync import EntityRules, sync_page
from campaigns.models import Beneficiary, Role
from tests.factories import (
    api_client,
    make_api_key,
    make_campaign,
    make_dhis2_connection,
    make_dhis2_link,
    make_program,
    make_user,
)
from tests.stubs.base import Reply
from tests.stubs.dhis2 import COUNTRY, MAPPING, PROGRAM, uid

pytestmark = pytest.mark.django_db(transaction=True)
pytest_plugins = ["tests.stubs.dhis2_fixtures"]


@pytest.fixture(autouse=True)
def small_pages(settings):
    settings.DHIS2_PAGE_SIZE = 100


def linked_campaign(stub, *, campaign_type="vaccination"):
    program = make_program()
    make_dhis2_connection(program=program, config=stub.config())
    campaign = make_campaign(program=program, campaign_type=campaign_type)
    make_dhis2_link(campaign=campaign, program_uid=PROGRAM, org_unit_uid=COUNTRY,
                    mapping=dict(MAPPING))
    client = api_client(make_api_key(program=program, role=Role.OPERATOR))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return campaign, client


def start(client, campaign, language="en", **body):
    return client.post(f"/api/campaigns/{campaign.pk}/dhis2/sync", body, format="json",
                       HTTP_ACCEPT_LANGUAGE=language)


def sync(client, campaign, **body):
    """Starts a sync, runs the dhis2 queue to the end, returns the run as the API shows it."""
    response = start(client, campaign, **body)
    assert response.status_code == 202, response.json()
    django_rq.get_worker("dhis2").work(burst=True)
    return client.get(f"/api/dhis2/syncs/{response.json()['id']}").json()


def external_ids(campaign):
    return list(Beneficiary.objects.filter(campaign=campaign).values_list("external_id", flat=True))


def counts(run):
    return run["created"], run["updated"], run["unchanged"], run["skipped"]


@pytest.mark.slow
def test_a_first_sync_imports_2500_entities_over_several_pages_exactly_once(dhis2_stub, settings):
    settings.DHIS2_PAGE_SIZE = 250
    dhis2_stub.add_entities(2500)
    campaign, client = linked_campaign(dhis2_stub)
    run = sync(client, campaign)
    assert run["status"] == "completed", run["error"]
    assert counts(run) == (2500, 0, 0, 0)
    assert (run["pages_done"], run["page_count"], run["total"], run["progress"]) == (10, 10,
                                                                                    2500, 100)
    ids = external_ids(campaign)
    assert len(ids) == len(set(ids)) == 2500
    assert set(ids) == {uid("En", n) for n in range(2500)}
    pages = dhis2_stub.page_requests()
    assert [r.query["page"] for r in pages] == [str(n) for n in range(1, 11)]
    # The count is asked once, with the first page; the descendants of the org unit are read.
    assert [r.query["totalPages"] for r in pages[:2]] == ["true", "false"]
    assert pages[0].query["orgUnitMode"] == "DESCENDANTS" and "updatedAfter" not in pages[0].query


def test_values_follow_the_mapping_and_the_import_rules(dhis2_stub):
    dhis2_stub.add_entity(1, first_name="  Awa  Marie ", last_name="Diop", sex="Female",
                          date_of_birth="2019-05-17T00:00:00.000", phone_number="77 123 45 67",
                          mpi_id="SN-0001", vaccine="Penta 3")
    campaign, client = linked_campaign(dhis2_stub)
    assert counts(sync(client, campaign)) == (1, 0, 0, 0)
    person = Beneficiary.objects.get(campaign=campaign)
    assert (person.first_name, person.last_name, person.sex) == ("Awa Marie", "Diop", "F")
    assert person.date_of_birth == date(2019, 5, 17)
    assert (person.phone, person.mpi_id, person.external_id) == ("+221771234567", "SN-0001",
                                                                uid("En", 1))
    assert person.attributes == {"vaccine": "Penta 3"}


def test_an_entity_without_a_phone_number_is_imported(dhis2_stub):
    dhis2_stub.add_entity(1, first_name="Awa", last_name="Diop", sex="F",
                          date_of_birth="2019-05-17", phone_number=None)
    campaign, client = linked_campaign(dhis2_stub)
    assert counts(sync(client, campaign)) == (1, 0, 0, 0)
    assert Beneficiary.objects.get(campaign=campaign).phone == ""


@pytest.mark.slow
def test_the_2_40_answer_shape_imports_the_same(dhis2_stub_240):
    dhis2_stub_240.add_entities(250)
    campaign, client = linked_campaign(dhis2_stub_240)
    run = sync(client, campaign)
    assert run["status"] == "completed", run["error"]
    assert counts(run) == (250, 0, 0, 0) and run["page_count"] == 3
    assert len(set(external_ids(campaign))) == 250
    query = dhis2_stub_240.page_requests()[0].query
    assert (query["orgUnit"], query["ouMode"]) == (COUNTRY, "DESCENDANTS")


def test_an_incremental_sync_only_touches_the_changed_entities(dhis2_stub):
    dhis2_stub.add_entities(2500)
    campaign, client = linked_campaign(dhis2_stub)
    first = sync(client, campaign)
    untouched_before = Beneficiary.objects.get(campaign=campaign, external_id=uid("En", 5))
    for n in (10, 20, 30):
        dhis2_stub.touch(n, last_name=f"Changed {n}")
    dhis2_stub.add_entities(2, start=5000, fresh=True)
    dhis2_stub.reset()  # forget the first sync's requests

    second = sync(client, campaign)
    assert second["status"] == "completed" and second["full"] is False
    assert counts(second) == (2, 3, 0, 0)
    assert second["updated_after"] < first["updated_before"]
    query = dhis2_stub.page_requests()[0].query
    assert query["updatedAfter"] == second["updated_after"]
    assert query["updatedBefore"] == second["updated_before"]
    assert Beneficiary.objects.get(external_id=uid("En", 20)).last_name == "Changed 20"
    untouched = Beneficiary.objects.get(campaign=campaign, external_id=uid("En", 5))
    assert untouched.updated_at == untouched_before.updated_at
    assert len(set(external_ids(campaign))) == 2502


def test_a_full_sync_reads_everything_and_counts_the_unchanged(dhis2_stub):
    dhis2_stub.add_entities(300)
    campaign, client = linked_campaign(dhis2_stub)
    sync(client, campaign)
    dhis2_stub.touch(7, first_name="Khady")
    run = sync(client, campaign, full=True)
    assert run["full"] is True and run["updated_after"] == ""
    assert counts(run) == (0, 1, 299, 0)


def test_a_changed_mapping_makes_the_next_sync_full(dhis2_stub):
    dhis2_stub.add_entities(120)
    campaign, client = linked_campaign(dhis2_stub)
    sync(client, campaign)
    link = campaign.dhis2_link
    link.mapping = {key: value for key, value in link.mapping.items() if key != "mpi_id"}
    link.save()
    run = sync(client, campaign)
    assert run["full"] is True
    assert counts(run) == (0, 0, 120, 0)


def test_skipped_entities_are_counted_with_their_reason_in_a_csv(dhis2_stub):
    good = {"first_name": "Awa", "last_name": "Diop", "sex": "F", "date_of_birth": "2019-05-17"}
    dhis2_stub.add_entity(1, **good)
    dhis2_stub.add_entity(2, **{**good, "first_name": None})
    dhis2_stub.add_entity(3, **{**good, "date_of_birth": "2019-02-30"})
    dhis2_stub.add_entity(4, **{**good, "phone_number": "+22112"})
    dhis2_stub.add_entity(5, **good, enrollments=[])
    dhis2_stub.add_entity(6, **good, enrollments=[{
        "enrollment": uid("En", 6), "program": PROGRAM, "orgUnit": "DiszpKrYNg8",
        "enrolledAt": "2024-01-01T00:00:00.000", "status": "CANCELLED"}])
    dhis2_stub.add_entity(7, **{**good, "sex": "Unknown"})
    campaign, client = linked_campaign(dhis2_stub)
    run = sync(client, campaign)
    assert counts(run) == (1, 0, 0, 6)
    assert external_ids(campaign) == [uid("En", 1)]

    response = client.get(run["errors_url"])
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    reasons = {row["tracked_entity"]: (row["field"], row["attribute"], row["reason"])
               for row in rows}
    assert reasons == {
        uid("Te", 2): ("first_name", MAPPING["first_name"], "first name missing"),
        uid("Te", 3): ("date_of_birth", MAPPING["date_of_birth"],
                       "date of birth not a date: “2019-02-30” (no such day)"),
        uid("Te", 4): ("phone_number", MAPPING["phone_number"], "phone not a valid number"),
        uid("Te", 5): ("enrollment", "", "no enrollment in the DHIS2 program"),
        uid("Te", 6): ("enrollment", "", "its enrollment in the DHIS2 program is cancelled"),
        uid("Te", 7): ("sex", MAPPING["sex"], "sex not F/M: “UNKNOWN”"),
    }
    assert rows[0]["enrollment"] == uid("En", 2) and rows[0]["page"] == "1"


def test_an_active_enrollment_wins_over_a_completed_one(dhis2_stub):
    dhis2_stub.add_entity(1, first_name="Awa", last_name="Diop", sex="F",
                          date_of_birth="2019-05-17", enrollments=[
                              {"enrollment": "EnOld000001", "program": PROGRAM,
                               "orgUnit": "DiszpKrYNg8", "enrolledAt": "2024-01-01T00:00:00.000",
                               "status": "COMPLETED"},
                              {"enrollment": "EnNew000001", "program": PROGRAM,
                               "orgUnit": "DiszpKrYNg8", "enrolledAt": "2023-01-01T00:00:00.000",
                               "status": "ACTIVE"},
                              {"enrollment": "EnTb0000001", "program": "ur1Edk5Oe2n",
                               "orgUnit": "DiszpKrYNg8", "enrolledAt": "2025-01-01T00:00:00.000",
                               "status": "ACTIVE"},
                          ])
    campaign, client = linked_campaign(dhis2_stub)
    sync(client, campaign)
    assert external_ids(campaign) == ["EnNew000001"]


def test_a_second_sync_while_one_is_pending_is_409(dhis2_stub):
    campaign, client = linked_campaign(dhis2_stub)
    assert start(client, campaign).status_code == 202
    response = start(client, campaign)
    assert response.status_code == 409
    assert response.json()["error"] == "A DHIS2 import is already running for this campaign."


def test_the_database_refuses_a_second_active_run_of_a_campaign(dhis2_stub):
    campaign, _client = linked_campaign(dhis2_stub)
    Dhis2SyncRun.objects.create(campaign=campaign, status="running")
    with pytest.raises(IntegrityError):
        Dhis2SyncRun.objects.create(campaign=campaign, status="pending")


def test_a_run_whose_job_was_lost_does_not_block_the_next_sync(dhis2_stub):
    campaign, client = linked_campaign(dhis2_stub)
    lost = Dhis2SyncRun.objects.create(campaign=campaign, status="running")
    Dhis2SyncRun.objects.filter(pk=lost.pk).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )
    assert start(client, campaign).status_code == 202
    lost.refresh_from_db()
    assert lost.status == "failed" and "worker running this import stopped" in lost.error


def test_sync_needs_a_link_first(dhis2_stub):
    program = make_program()
    make_dhis2_connection(program=program, config=dhis2_stub.config())
    campaign = make_campaign(program=program)
    response = start(api_client(make_api_key(program=program)), campaign)
    assert response.status_code == 409
    assert response.json()["error"] == (
        "Choose this campaign's DHIS2 program, org unit and attribute mapping first."
    )


def test_a_transient_5xx_is_retried_and_the_sync_completes(dhis2_stub):
    dhis2_stub.add_entities(500)
    campaign, client = linked_campaign(dhis2_stub)
    dhis2_stub.reply_next(Reply(503, "Service Unavailable"), times=2,
                          match=lambda r: r.query.get("page") == "3")
    run = sync(client, campaign)
    assert run["status"] == "completed", run["error"]
    assert counts(run) == (500, 0, 0, 0)
    assert [r.query["page"] for r in dhis2_stub.page_requests()].count("3") == 3


def test_a_lasting_5xx_fails_the_run_at_its_page_and_the_next_sync_finishes_cleanly(dhis2_stub):
    dhis2_stub.add_entities(500)
    campaign, client = linked_campaign(dhis2_stub)
    dhis2_stub.reply_next(Reply(502, "Bad Gateway"), times=100,
                          match=lambda r: r.query.get("page") == "3")
    failed = sync(client, campaign)
    assert failed["status"] == "failed"
    assert failed["error"] == ("Stopped at page 3 of 5 (pages before it are imported): DHIS2 "
                               "answered 502 (server busy or failing).")
    assert failed["pages_done"] == 2 and counts(failed) == (200, 0, 0, 0)
    assert len(external_ids(campaign)) == 200

    dhis2_stub.reset()
    run = sync(client, campaign)
    assert run["status"] == "completed" and run["full"] is True
    assert counts(run) == (300, 0, 200, 0)
    ids = external_ids(campaign)
    assert len(ids) == len(set(ids)) == 500


@pytest.mark.slow
def test_a_timeout_mid_paging_fails_the_run_naming_it(dhis2_stub, settings):
    settings.DHIS2_TIMEOUT_SECONDS = 0.3
    dhis2_stub.add_entities(250)
    campaign, client = linked_campaign(dhis2_stub)
    dhis2_stub.delay_next(1.0, times=10, match=lambda r: r.query.get("page") == "2")
    run = sync(client, campaign)
    assert run["status"] == "failed"
    assert "Stopped at page 2 of 3" in run["error"]
    assert "did not answer within 0.3 seconds" in run["error"]
    assert run["created"] == 100


def test_refused_credentials_fail_the_run_naming_the_401(dhis2_stub):
    dhis2_stub.add_entities(10)
    campaign, client = linked_campaign(dhis2_stub)
    dhis2_stub.token = "d2pat_rotated0000000000000000"
    run = sync(client, campaign)
    assert run["status"] == "failed"
    assert "refused the personal access token (401)" in run["error"]
    assert run["created"] == 0


def test_a_program_gone_from_dhis2_fails_the_run_with_dhis2s_message(dhis2_stub):
    dhis2_stub.add_entities(10)
    campaign, client = linked_campaign(dhis2_stub)
    del dhis2_stub.programs[PROGRAM]
    run = sync(client, campaign)
    assert run["status"] == "failed"
    assert "DHIS2 refused the request (409): Program is specified but does not exist" in (
        run["error"]
    )


def test_the_run_keeps_the_operators_language_for_the_worker(dhis2_stub):
    campaign, client = linked_campaign(dhis2_stub)
    response = start(client, campaign, language="wo")
    assert Dhis2SyncRun.objects.get(pk=response.json()["id"]).language == "wo"


def test_a_page_is_written_once_however_often_it_is_processed(dhis2_stub):
    dhis2_stub.add_entities(3)
    campaign, _client = linked_campaign(dhis2_stub)
    run = Dhis2SyncRun.objects.create(campaign=campaign, status="running")
    rules = EntityRules(link=campaign.dhis2_link, region="SN", today=date.today())
    assert sync_page(run_id=run.pk, page=1, entities=dhis2_stub.entities, rules=rules) is True
    assert sync_page(run_id=run.pk, page=1, entities=dhis2_stub.entities, rules=rules) is False
    run.refresh_from_db()
    assert (run.pages_done, run.created_count) == (1, 3)
    assert Beneficiary.objects.filter(campaign=campaign).count() == 3


def test_the_skipped_csv_of_a_sensitive_campaign_needs_the_sensitive_grant(dhis2_stub):
    dhis2_stub.add_entity(1, first_name=None, last_name="Diop", sex="F",
                          date_of_birth="2019-05-17")
    campaign, ungranted = linked_campaign(dhis2_stub, campaign_type="hiv")
    allowed = api_client(make_api_key(program=campaign.program, role=Role.OPERATOR,
                                      can_view_sensitive=True))
    run = sync(allowed, campaign)
    assert run["skipped"] == 1
    assert ungranted.get(run["errors_url"]).status_code == 403
    assert allowed.get(run["errors_url"]).status_code == 200


def test_an_operator_without_the_grant_cannot_sync_a_sensitive_campaign(dhis2_stub):
    campaign, ungranted = linked_campaign(dhis2_stub, campaign_type="hiv")
    assert start(ungranted, campaign).status_code == 403
    assert not campaign.dhis2_syncs.exists()


def test_another_programs_run_is_404(dhis2_stub):
    campaign, client = linked_campaign(dhis2_stub)
    run_id = start(client, campaign).json()["id"]
    outsider = api_client(make_api_key(program=make_program()))
    assert outsider.get(f"/api/dhis2/syncs/{run_id}").status_code == 404
    assert outsider.get(f"/api/dhis2/syncs/{run_id}/errors.csv").status_code == 404
    assert outsider.post(f"/api/campaigns/{campaign.pk}/dhis2/sync", {},
                         format="json").status_code == 404


def test_the_history_lists_runs_newest_first(dhis2_stub):
    dhis2_stub.add_entities(5)
    campaign, client = linked_campaign(dhis2_stub)
    first = sync(client, campaign)
    second = sync(client, campaign)
    history = client.get(f"/api/campaigns/{campaign.pk}/dhis2/syncs").json()["data"]
    assert [run["id"] for run in history] == [second["id"], first["id"]]
    assert history[0]["created_by"] is None  # started with an API key, not a user


def test_a_skip_recorded_in_english_reads_in_french_in_the_csv(dhis2_stub):
    good = {"first_name": "Awa", "last_name": "Diop", "sex": "F", "date_of_birth": "2019-05-17"}
    dhis2_stub.add_entity(1, **{**good, "first_name": None})
    dhis2_stub.add_entity(2, **good, enrollments=[])
    campaign, client = linked_campaign(dhis2_stub)
    run = sync(client, campaign)  # started in English: the worker writes in English

    response = client.get(run["errors_url"], HTTP_ACCEPT_LANGUAGE="fr")

    rows = csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()))
    assert {row["tracked_entity"]: row["reason"] for row in rows} == {
        uid("Te", 1): "prénom manquant",
        uid("Te", 2): "aucune inscription au programme DHIS2",
    }


def test_a_skip_recorded_in_english_reads_in_french_in_the_admin(dhis2_stub):
    dhis2_stub.add_entity(1, first_name="Awa", last_name="Diop", sex="F",
                          date_of_birth="2019-05-17", enrollments=[])
    campaign, _client = linked_campaign(dhis2_stub)
    run = Dhis2SyncRun.objects.create(campaign=campaign, status="running")
    rules = EntityRules(link=campaign.dhis2_link, region="SN", today=date.today())
    with translation.override("en"):
        sync_page(run_id=run.pk, page=1, entities=dhis2_stub.entities, rules=rules)
    admin = Client(HTTP_ACCEPT_LANGUAGE="fr")
    admin.force_login(make_user(is_staff=True, is_superuser=True))

    skips = admin.get(reverse("admin:dhis2_dhis2syncskip_changelist")).content.decode()
    history = admin.get(reverse("admin:dhis2_dhis2syncrun_change", args=[run.pk]))

    assert "aucune inscription au programme DHIS2" in skips
    assert "aucune inscription au programme DHIS2" in history.content.decode()
    assert "no enrollment in the DHIS2 program" not in skips
