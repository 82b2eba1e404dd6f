"""Campaign services (campaigns.lifecycle) and reads (campaigns.selectors): the rules the API
and the browser pages share."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import override

from campaigns import lifecycle, readiness, selectors
from campaigns.models import Campaign, Job
from campaigns.services import quota_balance, quota_debit_for_job
from tests.factories import (
    make_beneficiaries,
    make_beneficiary,
    make_campaign,
    make_job,
    make_program,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Messages are translated; these tests read the English ones."""
    with override("en"):
        yield


def _create(program, **fields):
    defaults = {"name": "Polio", "campaign_type": "vaccination", "prefix": "DKR-VAC"}
    defaults.update(fields)
    return lifecycle.campaign_create(program=program, **defaults)


def _checks(campaign):
    return {c["key"]: c for c in readiness.campaign_readiness(campaign=campaign)["checks"]}


# ---------------------------------------------------------------- create, update


def test_create_makes_a_draft_with_the_type_as_template():
    campaign = _create(make_program(), campaign_type="cps", prefix="cps-01")
    assert (campaign.status, campaign.template_id, campaign.prefix) == ("draft", "cps", "CPS-01")


def test_create_records_the_user_who_made_it():
    program = make_program()
    user = make_user(program=program)
    assert _create(program, user=user).created_by == user


def test_create_refuses_a_prefix_taken_by_another_program():
    _create(make_program(), prefix="DKR-VAC")
    with pytest.raises(ValidationError) as exc:
        _create(make_program(), prefix="DKR-VAC")
    assert list(exc.value.message_dict) == ["prefix"]


def test_a_soft_deleted_campaign_keeps_its_prefix():
    program = make_program()
    make_campaign(program=program, prefix="OLD-1", deleted_at=timezone.now())
    with pytest.raises(ValidationError) as exc:
        _create(program, prefix="OLD-1")
    assert "prefix" in exc.value.message_dict


def test_create_names_every_bad_field_at_once():
    with pytest.raises(ValidationError) as exc:
        _create(make_program(), name="", prefix="x", dpi=200, template_id="nope")
    assert {"name", "prefix", "dpi", "template_id"} <= set(exc.value.message_dict)


def test_card_validity_must_be_a_positive_number_of_months():
    with pytest.raises(ValidationError) as exc:
        _create(make_program(), card_validity_months=0)
    assert list(exc.value.message_dict) == ["card_validity_months"]


def test_create_cleans_template_options_through_card_studio():
    campaign = _create(make_program(), template_options={"primary_colour": "#abc"})
    assert campaign.template_options == {"primary_colour": "#AABBCC"}


def test_create_rejects_an_unknown_field_as_a_programming_error():
    with pytest.raises(TypeError):
        _create(make_program(), status="completed")


def test_update_refuses_prefix_and_type_changes_together():
    campaign = make_campaign(program=make_program(), prefix="AAA")
    with pytest.raises(ValidationError) as exc:
        lifecycle.campaign_update(campaign=campaign, prefix="BBB", campaign_type="hiv")
    assert set(exc.value.message_dict) == {"prefix", "campaign_type"}
    assert Campaign.objects.get(pk=campaign.pk).prefix == "AAA"


def test_update_saves_editable_fields():
    campaign = make_campaign(program=make_program())
    lifecycle.campaign_update(campaign=campaign, language="en", card_validity_months=None)
    campaign.refresh_from_db()
    assert (campaign.language, campaign.card_validity_months) == ("en", None)


def test_update_does_not_overwrite_a_status_written_meanwhile():
    campaign = make_campaign(program=make_program(), status="generating")
    Campaign.objects.filter(pk=campaign.pk).update(status="completed")  # the job finished
    lifecycle.campaign_update(campaign=campaign, name="Renamed")
    assert Campaign.objects.get(pk=campaign.pk).status == "completed"


# ---------------------------------------------------------------- archive, delete, purge


def test_archive_and_unarchive_set_and_clear_archived_at():
    campaign = make_campaign(program=make_program())
    assert lifecycle.campaign_archive(campaign=campaign).archived_at is not None
    assert lifecycle.campaign_unarchive(campaign=campaign).archived_at is None


def test_soft_delete_then_restore():
    campaign = make_campaign(program=make_program())
    lifecycle.campaign_soft_delete(campaign=campaign)
    assert not Campaign.objects.alive().filter(pk=campaign.pk).exists()
    lifecycle.campaign_restore(campaign=Campaign.objects.get(pk=campaign.pk))
    assert Campaign.objects.alive().filter(pk=campaign.pk).exists()


def test_soft_delete_is_refused_while_a_job_runs():
    campaign = make_campaign(program=make_program())
    make_job(campaign=campaign, status=Job.Status.PENDING)
    with pytest.raises(lifecycle.CampaignConflict):
        lifecycle.campaign_soft_delete(campaign=campaign)


def test_soft_delete_is_allowed_once_jobs_are_finished():
    campaign = make_campaign(program=make_program())
    make_job(campaign=campaign, status=Job.Status.CANCELLED)
    assert lifecycle.campaign_soft_delete(campaign=campaign).deleted_at is not None


def test_purge_removes_beneficiaries_and_jobs():
    campaign = make_campaign(program=make_program())
    make_beneficiary(campaign=campaign)
    make_job(campaign=campaign, status=Job.Status.FAILED)
    lifecycle.campaign_purge(campaign=campaign)
    assert not Campaign.objects.filter(pk=campaign.pk).exists()
    assert not Job.objects.filter(campaign_id=campaign.pk).exists()


def test_purge_deletes_job_files_after_commit(django_capture_on_commit_callbacks):
    campaign = make_campaign(program=make_program())
    job = make_job(campaign=campaign, status=Job.Status.FAILED)
    job.pdf.save("cards.pdf", ContentFile(b"%PDF-1.7"))
    storage, name = job.pdf.storage, job.pdf.name
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.campaign_purge(campaign=campaign)
    assert not storage.exists(name)


def test_purge_keeps_the_ledger_rows_of_its_jobs():
    program = make_program(quota=10)
    campaign = make_campaign(program=program)
    job = make_job(campaign=campaign, status=Job.Status.COMPLETED, total_cards=1)
    debit = quota_debit_for_job(job=job, units=1)
    lifecycle.campaign_purge(campaign=campaign)
    debit.refresh_from_db()
    assert (debit.job_id, debit.units) == (None, -1)
    assert quota_balance(program=program) == 9


def test_duplicate_copies_settings_into_a_new_draft():
    source = make_campaign(
        program=make_program(), campaign_type="mild", status="completed", dpi=450,
        template_options={"logo": False},
    )
    make_beneficiary(campaign=source)
    copy = lifecycle.campaign_duplicate(campaign=source, prefix="NEW-1")
    assert (copy.campaign_type, copy.dpi, copy.status) == ("mild", 450, "draft")
    assert copy.template_options == {"logo": False}
    assert copy.program == source.program
    assert copy.beneficiaries.count() == 0


def test_duplicate_needs_a_prefix():
    source = make_campaign(program=make_program())
    with pytest.raises(ValidationError) as exc:
        lifecycle.campaign_duplicate(campaign=source, prefix="")
    assert list(exc.value.message_dict) == ["prefix"]


# ---------------------------------------------------------------- metrics


def test_metrics_count_valid_phones_only():
    campaign = make_campaign(program=make_program())
    make_beneficiary(campaign=campaign, phone="+221771234567")
    make_beneficiary(campaign=campaign, phone="")
    make_beneficiary(campaign=campaign, phone="771234567")
    metrics = selectors.campaign_metrics(campaign=campaign)
    assert (metrics["beneficiaries"], metrics["with_phone"], metrics["without_phone"]) == (3, 1, 2)


def test_cards_issued_counts_completed_jobs_only():
    campaign = make_campaign(program=make_program())
    make_job(campaign=campaign, status=Job.Status.COMPLETED, cards_generated=40)
    make_job(campaign=campaign, status=Job.Status.COMPLETED, cards_generated=2)
    make_job(campaign=campaign, status=Job.Status.FAILED, cards_generated=7)
    metrics = selectors.campaign_metrics(campaign=campaign)
    assert (metrics["cards_issued"], metrics["jobs"]) == (42, 3)


def test_last_job_is_the_newest():
    campaign = make_campaign(program=make_program())
    make_job(campaign=campaign, status=Job.Status.COMPLETED)
    newest = make_job(campaign=campaign, status=Job.Status.GENERATING, progress=30)
    last = selectors.campaign_metrics(campaign=campaign)["last_job"]
    assert (last["id"], last["status"], last["progress"]) == (newest.pk, "generating", 30)


def test_a_campaign_without_jobs_has_no_last_job():
    campaign = make_campaign(program=make_program())
    assert selectors.campaign_metrics(campaign=campaign)["last_job"] is None


# ---------------------------------------------------------------- readiness


def test_a_campaign_with_beneficiaries_quota_and_template_can_start():
    campaign = make_campaign(program=make_program(quota=100), status="preview_ready",
                             template_options={"values": {"vaccine": "RR1", "doses": "1"}})
    make_beneficiary(campaign=campaign)
    checklist = readiness.campaign_readiness(campaign=campaign)
    assert checklist["can_start"] is True
    assert {c["status"] for c in checklist["checks"]} == {"ready"}
    assert all(c["action"] is None for c in checklist["checks"])


def test_no_beneficiaries_is_missing():
    campaign = make_campaign(program=make_program())
    assert _checks(campaign)["beneficiaries"]["status"] == "missing"
    assert readiness.campaign_readiness(campaign=campaign)["can_start"] is False


def test_no_template_is_missing():
    campaign = make_campaign(program=make_program(), template_id="")
    make_beneficiary(campaign=campaign)
    assert _checks(campaign)["template"]["status"] == "missing"


def test_quota_is_missing_when_the_balance_cannot_pay_for_every_card():
    campaign = make_campaign(program=make_program(quota=15), dpi=600)
    make_beneficiaries(campaign=campaign, count=10)
    quota = _checks(campaign)["quota"]
    assert quota["status"] == "missing"
    assert "20" in quota["detail"] and "15" in quota["detail"]
    assert readiness.campaign_readiness(campaign=campaign)["can_start"] is False


def test_quota_is_ready_when_the_balance_covers_the_cost():
    campaign = make_campaign(program=make_program(quota=14), dpi=450)
    make_beneficiaries(campaign=campaign, count=10)
    assert _checks(campaign)["quota"]["status"] == "ready"


def test_missing_phones_warn_without_blocking():
    campaign = make_campaign(program=make_program())
    make_beneficiary(campaign=campaign)
    make_beneficiary(campaign=campaign, phone="")
    make_beneficiary(campaign=campaign, phone="")
    phones = _checks(campaign)["phones"]
    assert phones["status"] == "warning"
    assert phones["detail"].startswith("2 of 3 cannot receive WhatsApp/SMS")
    assert readiness.campaign_readiness(campaign=campaign)["can_start"] is True


def test_a_draft_warns_that_its_design_is_not_validated():
    campaign = make_campaign(program=make_program())
    assert _checks(campaign)["preview"]["status"] == "warning"
    campaign.status = Campaign.Status.PREVIEW_READY
    assert _checks(campaign)["preview"]["status"] == "ready"


def test_an_archived_campaign_cannot_start():
    campaign = make_campaign(program=make_program(), archived_at=timezone.now())
    make_beneficiary(campaign=campaign)
    assert _checks(campaign)["state"]["status"] == "missing"


def test_a_running_job_blocks_a_second_start():
    campaign = make_campaign(program=make_program())
    make_beneficiary(campaign=campaign)
    make_job(campaign=campaign, status=Job.Status.PROCESSING)
    assert readiness.campaign_readiness(campaign=campaign)["can_start"] is False


def test_check_labels_follow_the_active_language():
    campaign = make_campaign(program=make_program())
    english = str(_checks(campaign)["beneficiaries"]["label"])
    with override("fr"):
        french = str(_checks(campaign)["beneficiaries"]["label"])
    assert english == "Beneficiaries"
    assert french != english


# ---------------------------------------------------------------- list selector


def test_campaign_list_works_with_partial_params():
    program = make_program()
    make_campaign(program=program, name="only")
    rows, meta, query = selectors.campaign_list(program=program, params={"q": "on"})
    assert [c.name for c in rows] == ["only"]
    assert meta["total"] == 1
    assert query["q"] == "on"


def test_campaign_for_program_does_not_find_another_programs_campaign():
    campaign = make_campaign(program=make_program())
    assert selectors.campaign_for_program(program=make_program(), pk=campaign.pk) is None
