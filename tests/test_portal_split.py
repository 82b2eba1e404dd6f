"""A national round's portals: one per campaign, or one per district (a beneficiary
attribute), each signed list holding only its district's cards (manage.py build_portals, and
?split_by=&part= on the API's portal.zip)."""

import zipfile

import pytest
from django.core.management import CommandError, call_command

from cards.signing_keys import program_public_keys
from tests.factories import (
    api_client,
    make_api_key,
    make_beneficiary,
    make_campaign,
    make_card,
    make_program,
)
from tests.portal_helpers import portal_archive
from verification.portal import portal_status_list
from verification.status_list import status_list_decode, status_of

pytestmark = pytest.mark.django_db


def _lists(folder, program):
    """{file name: (header, records)} of the portals written in `folder`."""
    keys = program_public_keys(program=program)
    found = {}
    for path in sorted(folder.glob("*.zip")):
        with zipfile.ZipFile(path) as archive:
            found[path.name] = status_list_decode(portal_status_list(archive), keys)
    return found


def test_one_portal_per_district_holds_that_districts_cards_only(tmp_path):
    program = make_program()
    campaign = make_campaign(program=program, prefix="SN-CPS")
    cards = {
        district: make_card(campaign=campaign, beneficiary=make_beneficiary(
            campaign=campaign, attributes={"district": district}))
        for district in ("Pikine", "Thiès")
    }

    call_command("build_portals", "SN-CPS", "--split-by", "district", "--out", str(tmp_path))

    lists = _lists(tmp_path, program)
    assert sorted(header["part"] for header, _records in lists.values()) == ["Pikine", "Thiès"]
    for header, records in lists.values():
        other = "Thiès" if header["part"] == "Pikine" else "Pikine"
        assert status_of(records, cards[header["part"]].code)["s"] == "valid"
        assert status_of(records, cards[other].code) is None


def test_one_portal_per_campaign_of_a_program(tmp_path):
    program = make_program()
    for prefix in ("SN-A", "SN-B"):
        make_card(campaign=make_campaign(program=program, prefix=prefix))

    call_command("build_portals", "--program", program.slug, "--out", str(tmp_path))

    names = list(_lists(tmp_path, program))
    assert [name.split("-portal-")[0] for name in names] == ["SN-A", "SN-B"]


def test_a_split_by_an_attribute_nobody_has_is_an_error_naming_it(tmp_path):
    make_card(campaign=make_campaign(program=make_program(), prefix="SN-C"))

    with pytest.raises(CommandError, match="'district'"):
        call_command("build_portals", "SN-C", "--split-by", "district", "--out", str(tmp_path))


def test_the_api_gives_one_districts_portal():
    program = make_program()
    campaign = make_campaign(program=program, prefix="SN-API")
    pikine, thies = (make_card(campaign=campaign, beneficiary=make_beneficiary(
        campaign=campaign, attributes={"district": d})) for d in ("Pikine", "Thiès"))

    response = api_client(make_api_key(program=program)).get(
        f"/api/campaigns/{campaign.pk}/portal.zip", {"split_by": "district", "part": "Pikine"})

    header, records = status_list_decode(portal_status_list(portal_archive(response)),
                                         program_public_keys(program=program))
    assert header["part"] == "Pikine"
    assert status_of(records, pikine.code) and status_of(records, thies.code) is None
    assert response["Content-Disposition"].startswith('attachment; filename="SN-API-Pikine-')


def test_the_api_names_the_field_of_a_part_nobody_is_in():
    program = make_program()
    campaign = make_campaign(program=program)
    make_card(campaign=campaign)
    client = api_client(make_api_key(program=program))
    url = f"/api/campaigns/{campaign.pk}/portal.zip"

    nobody = client.get(url, {"split_by": "district", "part": "Kédougou"})
    bad_name = client.get(url, {"split_by": "district__contains", "part": "x"})
    alone = client.get(url, {"split_by": "district"})

    assert nobody.status_code == bad_name.status_code == alone.status_code == 400
    assert (list(nobody.json()["fields"]), list(bad_name.json()["fields"]),
            list(alone.json()["fields"])) == (["part"], ["split_by"], ["part"])
