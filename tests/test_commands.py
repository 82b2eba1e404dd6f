"""The two commands an operator types on a server: createprogram and create_api_key."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from campaigns.models import ApiKey, Program
from campaigns.services import quota_balance
from tests.factories import api_client, make_program

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_createprogram_creates_the_program_with_its_quota():
    output = run("createprogram", "--slug", "pev-dakar", "--name", "PEV Dakar", "--quota", "2500")
    program = Program.objects.get(slug="pev-dakar")
    assert program.name == "PEV Dakar"
    assert quota_balance(program=program) == 2500
    assert "pev-dakar" in output


def test_createprogram_refuses_a_duplicate_slug_by_name():
    make_program(slug="pev-dakar")
    with pytest.raises(CommandError, match=r"pev-dakar.*already exists"):
        run("createprogram", "--slug", "pev-dakar", "--name", "Again")
    assert Program.objects.filter(slug="pev-dakar").count() == 1


def test_createprogram_names_the_bad_field_instead_of_a_traceback():
    with pytest.raises(CommandError, match=r"slug"):
        run("createprogram", "--slug", "not a slug", "--name", "Bad")
    assert not Program.objects.exists()


def test_create_api_key_prints_the_key_alone_on_its_last_line():
    program = make_program(slug="mild-thies")
    output = run("create_api_key", "--program", "mild-thies")
    raw_key = output.strip().splitlines()[-1]
    assert raw_key.startswith("cid_") and " " not in raw_key
    assert ApiKey.objects.get(program=program).hashed_key == ApiKey.hash(raw_key)
    response = api_client(raw_key).get("/api/me")
    assert response.status_code == 200
    assert response.json()["program"]["slug"] == "mild-thies"


def test_create_api_key_for_an_unknown_program_is_a_clear_error():
    with pytest.raises(CommandError, match="nowhere"):
        run("create_api_key", "--program", "nowhere")
