"""The portal's signed status list in headless Chromium, opened from file:// with the network
blocked: a modified list is refused in plain words, an older list never takes over a newer
one (kept in localStorage, or fetched), an old list says "to confirm online", cards of a
withdrawn key say so, and every verdict says how old its statuses are."""

import base64
import zipfile
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from cards.issuing import cards_assign
from cards.revocation import card_revoke
from cards.signing_keys import signing_key_for, signing_key_rotate, signing_key_withdraw
from tests.browser import allowlisted_context
from tests.factories import make_beneficiary, make_campaign, make_job, make_program
from tests.portal_helpers import check_in_portal, scanned_link, verdict
from verification.portal import current_portal_file, portal_status_list
from verification.status_list import SIGNATURE_SIZE, status_list_decode

pytest_plugins = ["tests.browser_fixtures"]  # browser, offline
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STATUS_URL = f"{settings.PUBLIC_BASE_URL}/v/status/DKR-VAC.bin"


@pytest.fixture
def round_():
    program = make_program(name="Programme élargi de vaccination")
    campaign = make_campaign(program=program, prefix="DKR-VAC", language="fr")
    people = [make_beneficiary(campaign=campaign) for _ in range(2)]
    job = make_job(campaign=campaign)
    kept, other = cards_assign(job=job, beneficiaries=people)
    return {"campaign": campaign, "kept": kept, "other": other}


def _portal(campaign, folder):
    """The campaign's portal now, unzipped in `folder`: {"index", "blob"}."""
    out, _name = current_portal_file(campaign=campaign)
    with out, zipfile.ZipFile(out) as archive:
        archive.extractall(folder)
        blob = portal_status_list(archive)
    return {"index": (folder / "index.html").as_uri(), "blob": blob, "folder": folder}


def _check(context, portal, text):
    return check_in_portal(context, portal, text)


def _check_after_refresh(context, portal, text):
    """The portal opened, its online refresh done (or refused), then `text` checked."""
    return check_in_portal(context, portal, text, ready="body[data-refreshed]")


def _write_list(portal, blob):
    script = b'window.CAMPAIGNID_STATUS_LIST = "' + base64.b64encode(blob) + b'";\n'
    (portal["folder"] / "registry.js").write_bytes(script)


def test_a_list_with_one_record_changed_is_refused_in_plain_words(offline, round_, tmp_path):
    portal = _portal(round_["campaign"], tmp_path / "p")
    blob = bytearray(portal["blob"])
    blob[-SIGNATURE_SIZE - 1] ^= 0x01  # the last record's state: "revoked" <-> "valid"
    _write_list(portal, bytes(blob))

    page = _check(offline, portal, round_["kept"].code)

    assert verdict(page) == "refused"
    assert "a été modifiée" in page.text_content("#verdict-text")
    assert page.get_attribute("body", "data-list-problem") == "refused"


def test_every_verdict_says_the_time_of_its_statuses(offline, round_, tmp_path):
    portal = _portal(round_["campaign"], tmp_path / "p")
    header = status_list_decode(portal["blob"])[0]

    page = _check(offline, portal, round_["kept"].code)

    assert verdict(page) == "valid"
    assert page.text_content("#verdict-status").startswith("Statut au ")
    assert f"liste n° {header['sequence']}" in page.text_content("#verdict-status")


def test_an_older_portal_answers_with_the_newer_list_this_browser_kept(offline, round_, tmp_path):
    older = _portal(round_["campaign"], tmp_path / "older")
    card_revoke(card=round_["other"], reason="lost")
    newer = _portal(round_["campaign"], tmp_path / "newer")

    _check(offline, newer, round_["other"].code)  # keeps its list in the browser
    page = _check(offline, older, round_["other"].code)

    assert verdict(page) == "revoked"
    assert page.get_attribute("body", "data-list-sequence") == str(
        status_list_decode(newer["blob"])[0]["sequence"]
    )


def test_an_older_list_never_takes_over_a_newer_one(offline, round_, tmp_path):
    older = _portal(round_["campaign"], tmp_path / "older")
    card_revoke(card=round_["other"], reason="lost")
    newer = _portal(round_["campaign"], tmp_path / "newer")

    _check(offline, newer, round_["other"].code)
    _check(offline, older, round_["other"].code)  # opening the older portal changes nothing
    page = _check(offline, newer, round_["other"].code)

    assert verdict(page) == "revoked"


def test_a_newer_list_fetched_online_is_taken_and_an_older_one_is_not(browser, round_, tmp_path):
    older = _portal(round_["campaign"], tmp_path / "older")
    card_revoke(card=round_["other"], reason="lost")
    newer = _portal(round_["campaign"], tmp_path / "newer")
    served = {"blob": newer["blob"]}
    context = allowlisted_context(browser, "file://")
    context.route(STATUS_URL, lambda route: route.fulfill(
        status=200, body=served["blob"], content_type="application/octet-stream",
        headers={"Access-Control-Allow-Origin": "*"}))
    try:
        taken = verdict(_check_after_refresh(context, older, round_["other"].code))
        served["blob"] = older["blob"]  # a stale cache or a replay
        kept = verdict(_check_after_refresh(context, newer, round_["other"].code))
    finally:
        context.close()

    assert (taken, kept) == ("revoked", "revoked")


def test_a_fetched_list_signed_by_a_key_the_portal_does_not_know_is_refused(
        browser, round_, tmp_path):
    portal = _portal(round_["campaign"], tmp_path / "p")
    signing_key_rotate(program=round_["campaign"].program)
    unknown_key = _portal(round_["campaign"], tmp_path / "rotated")["blob"]
    context = allowlisted_context(browser, "file://")
    context.route(STATUS_URL, lambda route: route.fulfill(
        status=200, body=unknown_key, headers={"Access-Control-Allow-Origin": "*"}))
    try:
        page = context.new_page()
        page.goto(portal["index"])
        page.wait_for_selector("body[data-refreshed]")
        refreshed = page.get_attribute("body", "data-refreshed")
        notice = page.text_content("#portal-notice")
    finally:
        context.close()

    assert refreshed == "refused"
    assert "clé que ce portail connaît" in notice


def test_an_old_list_makes_valid_cards_to_confirm_online(offline, round_, tmp_path):
    portal = _portal(round_["campaign"], tmp_path / "p")
    offline.clock.set_fixed_time(
        timezone.now() + timedelta(days=settings.STATUS_LIST_MAX_AGE_DAYS + 1)
    )

    page = _check(offline, portal, round_["kept"].code)

    assert verdict(page) == "confirm"
    assert "À confirmer en ligne" in page.text_content("#verdict-title")


def test_cards_of_a_withdrawn_key_are_not_valid_typed_or_scanned(offline, round_, tmp_path):
    signing_key_withdraw(key=signing_key_for(program=round_["campaign"].program), reason="leak")
    portal = _portal(round_["campaign"], tmp_path / "p")

    typed = _check(offline, portal, round_["kept"].code)
    scanned = _check(offline, portal, scanned_link(round_["kept"]))

    assert (verdict(typed), verdict(scanned)) == ("withdrawn", "withdrawn")
    assert "clé retirée" in typed.text_content("#verdict-title")


def test_the_portal_opens_in_its_campaigns_language(offline, round_, tmp_path):
    round_["campaign"].language = "wo"
    round_["campaign"].save(update_fields=["language"])
    portal = _portal(round_["campaign"], tmp_path / "p")

    page = _check(offline, portal, round_["kept"].code)

    assert page.get_attribute("html", "lang") == "wo"
    assert page.text_content("#verdict-title") == "Kàrt bi baax na"
