"""campaigns.beneficiary_upsert: the row rules and the write shared by the CSV import and the
DHIS2 sync."""

from datetime import date

import pytest

from campaigns.beneficiary_upsert import (
    EXTERNAL_ID_CANDIDATES,
    beneficiaries_upsert,
    beneficiary_row_clean,
)
from campaigns.models import Beneficiary
from tests.factories import make_beneficiary, make_campaign, make_program

pytestmark = pytest.mark.django_db

TODAY = date(2026, 1, 15)


def row(**values):
    base = {"first_name": " Awa  Diop ", "last_name": "Ndiaye", "date_of_birth": "17/05/2019",
            "sex": "f", "district": " Pikine "}
    cleaned, problems = beneficiary_row_clean({**base, **values}, region="SN", today=TODAY)
    assert problems == []
    return cleaned


def test_a_row_is_cleaned_once_for_every_input():
    cleaned = row(phone_number="77 123 45 67", consent_sms="oui")
    assert cleaned["first_name"] == "Awa Diop"
    assert cleaned["date_of_birth"] == date(2019, 5, 17)
    assert (cleaned["sex"], cleaned["phone_number"], cleaned["consent_sms"]) == (
        "F", "+221771234567", True)
    assert cleaned["attributes"] == {"district": "Pikine"}
    _cleaned, problems = beneficiary_row_clean({"sex": "X"}, region="SN", today=TODAY)
    assert {field for field, _message in problems} >= {"first_name", "date_of_birth", "sex"}


def test_rows_create_then_update_by_external_id():
    campaign = make_campaign(program=make_program())
    first = beneficiaries_upsert(campaign_id=campaign.pk, rows=[row(external_id="E1")])
    again = beneficiaries_upsert(campaign_id=campaign.pk,
                                 rows=[row(external_id="E1", last_name="Sow"), row()])
    assert (first.created, first.updated, again.created, again.updated) == (1, 0, 1, 1)
    assert Beneficiary.objects.get(campaign=campaign, external_id="E1").last_name == "Sow"


def test_candidates_update_the_one_already_saved_and_unchanged_rows_write_nothing():
    campaign = make_campaign(program=make_program())
    saved = make_beneficiary(campaign=campaign, external_id="OLD", **{
        key: value for key, value in row().items() if key != "attributes"},
        attributes={"district": "Pikine"})
    same = {**row(), EXTERNAL_ID_CANDIDATES: ["NEW", "OLD"]}
    result = beneficiaries_upsert(campaign_id=campaign.pk, rows=[same], skip_unchanged=True)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 1)
    moved = {**row(last_name="Fall"), EXTERNAL_ID_CANDIDATES: ["NEW", "OLD"]}
    fresh = {**row(), EXTERNAL_ID_CANDIDATES: ["E2"]}
    result = beneficiaries_upsert(campaign_id=campaign.pk, rows=[moved, fresh],
                                  skip_unchanged=True)
    assert (result.created, result.updated, result.unchanged) == (1, 1, 0)
    saved.refresh_from_db()
    assert (saved.external_id, saved.last_name) == ("OLD", "Fall")
    assert Beneficiary.objects.filter(campaign=campaign, external_id="E2").exists()
