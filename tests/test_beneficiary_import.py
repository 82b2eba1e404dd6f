"""campaigns.imports.beneficiaries_import: all rows or none, every bad row named by its line."""

import csv
from datetime import date
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from campaigns.imports import ImportRejected, beneficiaries_import
from campaigns.models import Beneficiary
from campaigns.phones import mask_phone
from tests.factories import make_beneficiary, make_campaign, make_program

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english():
    """These tests read the English wording; tests/test_french_everywhere.py the French."""
    with translation.override("en"):
        yield

# Synthetic people, kept in the repo so the tests stand alone.
DATA = Path(__file__).resolve().parent / "data"
CLEAN = DATA / "beneficiaries-1000.csv"
DIRTY = DATA / "beneficiaries-dirty.csv"
DIRTY_ERRORS = DATA / "beneficiaries-dirty.errors.csv"

HEADER = (
    "external_id,first_name,last_name,date_of_birth,sex,phone_number,mpi_id,district,"
    "consent_whatsapp,consent_sms"
)


def csv_bytes(*rows, header=HEADER, delimiter=","):
    lines = [header.replace(",", delimiter)] + [row.replace(",", delimiter) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def row(external_id="ext1", first="Awa", last="Sow", born="2019-02-20", sex="F",
        phone="+221771234567", mpi="MPI-1", district="Pikine", whatsapp="yes", sms="no"):
    return ",".join([external_id, first, last, born, sex, phone, mpi, district, whatsapp, sms])


def rejected(campaign, **source):
    with pytest.raises(ImportRejected) as caught:
        beneficiaries_import(campaign=campaign, **source)
    return caught.value


# The sample files ------------------------------------------------------------------------


def test_dirty_file_is_rejected_on_exactly_the_listed_lines(campaign):
    with DIRTY_ERRORS.open(newline="") as expected_file:
        expected = {int(r["line"]): r["reason"] for r in csv.DictReader(expected_file)}

    errors = rejected(campaign, csv_file=DIRTY.read_bytes()).errors

    assert sorted(error["line"] for error in errors) == sorted(expected)  # one error each
    for error in errors:
        assert expected[error["line"]] in error["message"]
        assert error["field"]


def test_dirty_file_saves_nothing(campaign):
    rejected(campaign, csv_file=DIRTY.read_bytes())
    assert not Beneficiary.objects.filter(campaign=campaign).exists()


def test_dirty_file_errors_name_the_field(campaign):
    fields = {e["line"]: e["field"] for e in rejected(campaign, csv_file=DIRTY.read_bytes()).errors}
    assert fields[31] == "last_name"
    assert fields[110] == "phone_number"
    assert fields[166] == "consent_sms"
    assert fields[208] == "external_id"


def test_duplicate_external_id_names_the_line_of_its_first_occurrence(campaign):
    errors = rejected(campaign, csv_file=DIRTY.read_bytes()).errors
    duplicate = next(e for e in errors if e["line"] == 208)
    assert "(line 2)" in duplicate["message"]


def test_rejection_message_counts_the_rejected_rows(campaign):
    assert rejected(campaign, csv_file=DIRTY.read_bytes()).message == (
        "10 rows were rejected; nothing was imported."
    )


def test_clean_file_imports_every_row(campaign):
    result = beneficiaries_import(campaign=campaign, csv_file=CLEAN.read_bytes())
    assert (result.created, result.updated, result.total) == (1000, 0, 1000)
    assert Beneficiary.objects.filter(campaign=campaign).count() == 1000


def test_clean_file_rows_are_stored_as_written(campaign):
    beneficiaries_import(campaign=campaign, csv_file=CLEAN.read_bytes())
    sokhna = Beneficiary.objects.get(campaign=campaign, external_id="rUZoL8g5ubb")
    assert (sokhna.first_name, sokhna.last_name, sokhna.sex) == ("Sokhna", "Ndiaye", "F")
    assert sokhna.date_of_birth == date(1986, 10, 18)
    assert sokhna.phone == "+221703608377"
    assert sokhna.mpi_id == "MPI-593628450"
    assert sokhna.attributes == {"district": "Kaolack"}
    assert (sokhna.consent_whatsapp, sokhna.consent_sms) == (True, True)


def test_accented_names_survive_the_import(campaign):
    beneficiaries_import(campaign=campaign, csv_file=CLEAN.read_bytes())
    assert Beneficiary.objects.get(campaign=campaign, external_id="s7bA16J7Pgl").first_name == (
        "Djénéba"
    )


def test_clean_file_imports_from_an_open_binary_file(campaign):
    with CLEAN.open("rb") as handle:
        assert beneficiaries_import(campaign=campaign, csv_file=handle).created == 1000


def test_uploaded_file_already_read_by_a_form_is_read_from_its_start(campaign):
    upload = SimpleUploadedFile("people.csv", csv_bytes(row()), content_type="text/csv")
    upload.read()
    assert beneficiaries_import(campaign=campaign, csv_file=upload).created == 1


# CSV shapes ------------------------------------------------------------------------------


def test_utf8_bom_is_ignored(campaign):
    beneficiaries_import(campaign=campaign, csv_file=b"\xef\xbb\xbf" + csv_bytes(row("bom1")))
    assert Beneficiary.objects.get(campaign=campaign).external_id == "bom1"


def test_semicolon_separated_file_is_read(campaign):
    data = csv_bytes(row("semi1"), row("semi2", first="Fodé"), delimiter=";")
    assert beneficiaries_import(campaign=campaign, csv_file=data).created == 2
    assert Beneficiary.objects.get(external_id="semi2").first_name == "Fodé"


def test_header_case_and_spaces_are_tolerated(campaign):
    header = (
        " External_ID , First Name,LAST_NAME,Date_Of_Birth,Sex,Phone_Number,mpi_id,District,"
        "consent_whatsapp,Consent_SMS"
    )
    beneficiaries_import(campaign=campaign, csv_file=csv_bytes(row("h1"), header=header))
    beneficiary = Beneficiary.objects.get(campaign=campaign)
    assert (beneficiary.external_id, beneficiary.first_name) == ("h1", "Awa")
    assert beneficiary.attributes == {"district": "Pikine"}


def test_windows_line_endings_are_read(campaign):
    data = csv_bytes(row("crlf1"), row("crlf2")).replace(b"\n", b"\r\n")
    assert beneficiaries_import(campaign=campaign, csv_file=data).created == 2


def test_missing_required_column_is_reported_on_the_header_line(campaign):
    data = b"external_id,first_name,date_of_birth,sex\nx1,Awa,2019-02-20,F\n"
    error = rejected(campaign, csv_file=data).errors[0]
    assert (error["line"], error["field"]) == (1, "last_name")
    assert "last_name missing" in error["message"]


def test_file_that_is_not_utf8_is_rejected_naming_the_file(campaign):
    data = csv_bytes(row(first="Fodé")).replace("é".encode(), "é".encode("latin-1"))
    error = rejected(campaign, csv_file=data).errors[0]
    assert (error["line"], error["field"]) == (2, "file")
    assert "UTF-8" in error["message"]


def test_file_with_only_a_header_is_rejected(campaign):
    error = rejected(campaign, csv_file=csv_bytes()).errors[0]
    assert error["field"] == "file"
    assert "no beneficiary rows" in error["message"]


def test_blank_lines_are_skipped_and_lines_keep_their_physical_number(campaign):
    data = csv_bytes(row("b1"), "", row("b2", sex="X"))
    error = rejected(campaign, csv_file=data).errors[0]
    assert (error["line"], error["field"]) == (4, "sex")


def test_quoted_value_spanning_lines_reports_the_line_where_its_row_starts(campaign):
    data = csv_bytes(row("q1", district='"Pikine\nNord"'), row("q2", born="tomorrow"))
    error = rejected(campaign, csv_file=data).errors[0]
    assert (error["line"], error["field"]) == (4, "date_of_birth")


def test_row_with_more_values_than_columns_is_rejected(campaign):
    error = rejected(campaign, csv_file=csv_bytes(row() + ",surplus")).errors[0]
    assert (error["line"], error["field"]) == (2, "row")
    assert "11 values" in error["message"]


# Field rules -----------------------------------------------------------------------------


def test_every_bad_row_is_reported_not_only_the_first(campaign):
    data = csv_bytes(row("a", first=""), row("b"), row("c", sex="Z"), row("d", born="1899-12-31"))
    assert [e["line"] for e in rejected(campaign, csv_file=data).errors] == [2, 4, 5]


def test_day_month_year_dates_are_accepted(campaign):
    beneficiaries_import(campaign=campaign, csv_file=csv_bytes(row(born="17/05/2019")))
    assert Beneficiary.objects.get(campaign=campaign).date_of_birth == date(2019, 5, 17)


def test_birth_before_1900_is_rejected(campaign):
    error = rejected(campaign, csv_file=csv_bytes(row(born="1899-12-31"))).errors[0]
    assert error["field"] == "date_of_birth"
    assert "before 1900" in error["message"]


def test_lower_case_sex_is_stored_upper_case(campaign):
    beneficiaries_import(campaign=campaign, csv_file=csv_bytes(row(sex="m")))
    assert Beneficiary.objects.get(campaign=campaign).sex == "M"


def test_name_is_trimmed_of_stray_spaces(campaign):
    beneficiaries_import(campaign=campaign, csv_file=csv_bytes(row(first="  Mame   Diarra ")))
    assert Beneficiary.objects.get(campaign=campaign).first_name == "Mame Diarra"


def test_name_of_101_characters_is_too_long(campaign):
    error = rejected(campaign, csv_file=csv_bytes(row(last="N" * 101))).errors[0]
    assert error["field"] == "last_name"
    assert "last name too long" in error["message"]


def test_phone_without_plus_uses_the_programs_country():
    campaign = make_campaign(program=make_program(country="CI"))
    beneficiaries_import(campaign=campaign, csv_file=csv_bytes(row(phone="07 01 23 45 67")))
    assert Beneficiary.objects.get(campaign=campaign).phone == "+2250701234567"


def test_phone_without_plus_is_invalid_when_it_is_not_a_number_of_the_programs_country():
    campaign = make_campaign(program=make_program(country="CI"))
    error = rejected(campaign, csv_file=csv_bytes(row(phone="771234567"))).errors[0]
    assert (error["field"], error["message"]) == ("phone_number", "phone not a valid number")


def test_phone_with_plus_is_read_as_international_whatever_the_country():
    campaign = make_campaign(program=make_program(country="CI"))
    beneficiaries_import(campaign=campaign, csv_file=csv_bytes(row(phone="+221 77 123 45 67")))
    assert Beneficiary.objects.get(campaign=campaign).phone == "+221771234567"


def test_empty_phone_is_allowed(campaign):
    beneficiaries_import(campaign=campaign, csv_file=csv_bytes(row(phone="")))
    assert Beneficiary.objects.get(campaign=campaign).phone == ""


@pytest.mark.parametrize(
    ("given", "stored"),
    [("yes", True), ("OUI", True), ("1", True), ("true", True),
     ("no", False), ("non", False), ("0", False), ("", False)],
)
def test_consent_words_are_understood(campaign, given, stored):
    beneficiaries_import(campaign=campaign, csv_file=csv_bytes(row(whatsapp=given)))
    assert Beneficiary.objects.get(campaign=campaign).consent_whatsapp is stored


def test_rows_without_external_id_are_all_created(campaign):
    result = beneficiaries_import(campaign=campaign, csv_file=csv_bytes(row(""), row("")))
    assert result.created == 2


# Re-import -------------------------------------------------------------------------------


def test_reimport_updates_beneficiaries_with_the_same_external_id(campaign):
    beneficiaries_import(campaign=campaign, csv_file=csv_bytes(row("r1"), row("r2")))
    first_ids = set(Beneficiary.objects.filter(campaign=campaign).values_list("id", flat=True))

    result = beneficiaries_import(
        campaign=campaign,
        csv_file=csv_bytes(row("r1", last="Diop", phone="", sms="yes"), row("r2"), row("r3")),
    )

    assert (result.created, result.updated) == (1, 2)
    r1 = Beneficiary.objects.get(campaign=campaign, external_id="r1")
    assert r1.id in first_ids
    assert (r1.last_name, r1.phone, r1.consent_sms) == ("Diop", "", True)
    assert Beneficiary.objects.filter(campaign=campaign).count() == 3


def test_reimport_of_the_clean_file_updates_every_row(campaign):
    beneficiaries_import(campaign=campaign, csv_file=CLEAN.read_bytes())
    result = beneficiaries_import(campaign=campaign, csv_file=CLEAN.read_bytes())
    assert (result.created, result.updated) == (0, 1000)
    assert Beneficiary.objects.filter(campaign=campaign).count() == 1000


def test_update_merges_attributes_and_keeps_what_the_input_does_not_mention(campaign):
    existing = make_beneficiary(
        campaign=campaign, external_id="m1", mpi_id="MPI-9", consent_wallet=False,
        attributes={"vaccine": "BCG", "district": "Thiès"},
    )
    beneficiaries_import(
        campaign=campaign,
        rows=[{"external_id": "m1", "first_name": "Awa", "last_name": "Sow",
               "date_of_birth": "2019-02-20", "sex": "F", "district": "Pikine"}],
    )
    existing.refresh_from_db()
    assert existing.attributes == {"vaccine": "BCG", "district": "Pikine"}
    assert (existing.mpi_id, existing.consent_wallet) == ("MPI-9", False)


def test_external_id_of_another_campaign_creates_a_new_beneficiary(campaign):
    other = make_campaign(program=campaign.program)
    make_beneficiary(campaign=other, external_id="shared1", first_name="Other")
    result = beneficiaries_import(campaign=campaign, csv_file=csv_bytes(row("shared1")))
    assert result.created == 1
    assert Beneficiary.objects.get(campaign=other).first_name == "Other"


def test_a_bad_row_leaves_existing_beneficiaries_untouched(campaign):
    existing = make_beneficiary(campaign=campaign, external_id="keep1", last_name="Ba")
    rejected(campaign, csv_file=csv_bytes(row("keep1", last="Changed"), row("new1", sex="?")))
    existing.refresh_from_db()
    assert existing.last_name == "Ba"
    assert Beneficiary.objects.filter(campaign=campaign).count() == 1


# JSON rows -------------------------------------------------------------------------------


def json_row(**overrides):
    values = {"external_id": "j1", "first_name": "Aya", "last_name": "Essomba",
              "date_of_birth": "2021-02-03", "sex": "F", "phone_number": "+221771234567",
              "consent_whatsapp": True, "consent_sms": "non"}
    values.update(overrides)
    return values


def test_json_rows_are_imported(campaign):
    result = beneficiaries_import(
        campaign=campaign, rows=[json_row(), json_row(external_id="j2", district="Pikine")]
    )
    assert result.created == 2
    j2 = Beneficiary.objects.get(campaign=campaign, external_id="j2")
    assert (j2.consent_whatsapp, j2.consent_sms) == (True, False)
    assert j2.attributes == {"district": "Pikine"}


def test_json_errors_give_the_position_in_the_list(campaign):
    errors = rejected(campaign, rows=[json_row(), json_row(external_id="j2", sex=None)]).errors
    assert [(e["line"], e["field"]) for e in errors] == [(2, "sex")]


def test_duplicate_external_id_in_json_is_reported_on_its_second_occurrence(campaign):
    errors = rejected(campaign, rows=[json_row(), json_row(external_id="j2"), json_row()]).errors
    assert [(e["line"], e["field"]) for e in errors] == [(3, "external_id")]
    assert "row 1" in errors[0]["message"]


def test_json_row_that_is_not_an_object_is_rejected(campaign):
    errors = rejected(campaign, rows=[json_row(), "Aya Essomba"]).errors
    assert [(e["line"], e["field"]) for e in errors] == [(2, "row")]


def test_empty_json_list_is_rejected(campaign):
    error = rejected(campaign, rows=[]).errors[0]
    assert error["field"] == "beneficiaries"


def test_json_nothing_saved_when_one_row_is_bad(campaign):
    rejected(campaign, rows=[json_row(), json_row(external_id="j2", date_of_birth="2019-13-01")])
    assert not Beneficiary.objects.filter(campaign=campaign).exists()


# Phone masking ---------------------------------------------------------------------------


def test_mask_phone_keeps_the_country_and_operator_and_the_last_four_digits():
    assert mask_phone("+221771234567") == "+22177***4567"


def test_mask_phone_of_no_phone_is_empty():
    assert mask_phone("") == ""
