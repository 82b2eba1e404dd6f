"""The offline portal ZIP a generation job ships (opened in a browser by
test_verification_browser.py)."""

import json
import zipfile
from datetime import date

import pytest

from cards.issuing import cards_assign
from cards.packaging import extra_artifact_builders
from cards.revocation import card_revoke
from cards.signing_keys import program_jwks, program_public_keys
from tests.factories import make_beneficiary, make_campaign, make_job, make_program
from verification.portal import portal_build, portal_status_list
from verification.registry import code_hash, registry_for
from verification.status_list import RECORD, status_list_decode, status_of

pytestmark = pytest.mark.django_db


def _job_with_cards():
    program = make_program()
    campaign = make_campaign(program=program, prefix="THS-MILD", language="wo",
                             card_validity_months=6)
    people = [
        make_beneficiary(campaign=campaign, first_name="Awa", last_name="Ndiaye",
                         phone="+221775550101", date_of_birth=date(1990, 4, 2)),
        make_beneficiary(campaign=campaign, first_name="Cheikh", last_name="Diouf",
                         phone="+221765550202", date_of_birth=date(1985, 8, 30)),
    ]
    job = make_job(campaign=campaign)
    return job, cards_assign(job=job, beneficiaries=people)


def _build(job, tmp_path):
    kind, name, path = portal_build(job=job, workdir=str(tmp_path))
    return kind, name, zipfile.ZipFile(path)


def _status_list(job, archive):
    """(header, records) of the portal's list, its signature checked with the program's keys."""
    keys = program_public_keys(program=job.campaign.program)
    return status_list_decode(portal_status_list(archive), keys)


def test_the_portal_builder_is_registered_with_packaging():
    assert portal_build in extra_artifact_builders()


def test_the_portal_is_named_after_the_job_and_its_campaign(tmp_path):
    job, _cards = _job_with_cards()

    kind, name, _zip = _build(job, tmp_path)

    assert kind == "portal"
    assert name == f"jobs/{job.pk}/THS-MILD-job{job.pk}-portal.zip"


def test_the_portal_holds_the_page_its_scripts_the_registry_and_the_keys(tmp_path):
    job, _cards = _job_with_cards()

    _kind, _name, archive = _build(job, tmp_path)

    assert {
        "index.html", "portal.js", "verify.js", "verify.css", "vendor/noble-crypto.js",
        "vendor/LICENSE-noble-ed25519", "vendor/LICENSE-noble-hashes",
        "registry.js", "keys.json", "README.txt",
    } <= set(archive.namelist())


def test_registry_js_carries_the_campaigns_signed_status_list(tmp_path):
    job, cards = _job_with_cards()

    _kind, _name, archive = _build(job, tmp_path)

    header, records = _status_list(job, archive)
    assert archive.read("registry.js").startswith(b'window.CAMPAIGNID_STATUS_LIST = "')
    assert (header["language"], header["campaign"], header["job"]) == ("wo", "THS-MILD", job.pk)
    assert len(records) == RECORD.size * len(cards) and header["count"] == len(cards)
    assert all(status_of(records, card.code)["s"] == "valid" for card in cards)
    assert json.loads(archive.read("keys.json")) == program_jwks(program=job.campaign.program)


def test_a_card_revoked_before_packaging_is_revoked_in_the_portal(tmp_path):
    job, (kept, revoked) = _job_with_cards()
    card_revoke(card=revoked, reason="lost")

    _kind, _name, archive = _build(job, tmp_path)

    _header, records = _status_list(job, archive)
    assert status_of(records, revoked.code)["s"] == "revoked"
    assert status_of(records, kept.code)["s"] == "valid"


def test_nothing_in_the_portal_names_a_beneficiary(tmp_path):
    job, cards = _job_with_cards()

    _kind, _name, archive = _build(job, tmp_path)

    everything = b"".join(archive.read(name) for name in archive.namelist()).decode("utf-8")
    for personal in ("Awa", "Ndiaye", "Cheikh", "Diouf", "775550101", "765550202",
                     "1990-04-02", "1985-08-30", *[card.code for card in cards]):
        assert personal not in everything, personal


def test_the_portal_page_loads_nothing_from_a_network(tmp_path):
    job, _cards = _job_with_cards()

    _kind, _name, archive = _build(job, tmp_path)

    for name in ("index.html", "portal.js", "verify.js", "verify.css"):
        text = archive.read(name).decode()
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, name


def test_the_portal_says_what_the_api_registry_says(tmp_path):
    job, (kept, revoked) = _job_with_cards()
    card_revoke(card=revoked, reason="lost")

    _kind, _name, archive = _build(job, tmp_path)

    _header, records = _status_list(job, archive)
    built = registry_for(job=job)["cards"]
    for card in (kept, revoked):
        assert status_of(records, card.code) == built[code_hash(card.code)]
