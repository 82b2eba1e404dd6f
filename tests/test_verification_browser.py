"""The verifier in a real browser (headless Debian Chromium through Playwright): the offline
portal opened from file:// with every network request blocked, and the online page against a
live server; both with WebCrypto Ed25519 and with the vendored pure-JS fallback."""

import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings

from cards.issuing import cards_assign
from cards.revocation import card_revoke
from cards.signing_keys import signing_key_for
from cards.tokens import CardClaims, CardSigner
from tests.browser import allowlisted_context
from tests.factories import make_beneficiary, make_campaign, make_card, make_job, make_program
from tests.portal_helpers import check_in_portal, scanned_link, verdict
from verification.portal import portal_build

pytest_plugins = ["tests.browser_fixtures"]  # browser, offline
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STATIC = Path(settings.BASE_DIR) / "static" / "verification"

# Makes WebCrypto refuse Ed25519, like the browsers of older phones.
WITHOUT_WEBCRYPTO_ED25519 = """
(() => {
  const subtle = globalThis.crypto && globalThis.crypto.subtle;
  if (!subtle) return;
  const importKey = subtle.importKey.bind(subtle);
  subtle.importKey = function (format, keyData, algorithm, ...rest) {
    const name = typeof algorithm === 'string' ? algorithm : algorithm && algorithm.name;
    if (String(name).toLowerCase() === 'ed25519') {
      return Promise.reject(new DOMException('Unrecognized name', 'NotSupportedError'));
    }
    return importKey(format, keyData, algorithm, ...rest);
  };
})();
"""

# The worked examples of the token format (README, tests/test_signing.py): version 2...
EXAMPLE_CODE = "DKR-VAC-9XQ7LM2A"
V2_EXAMPLE_TOKEN = (
    "00197362138617402422917045275581440179100848667452864687812605895731980030371858483609967"
    "269559123096978977847384194269212071893433019663297671046703736529588408034637984328055795"
    "624585990867431182223790737349941333155995962633"
)
V2_EXAMPLE_MESSAGE_HEX = (
    "63616d706169676e69642d636172642d7632" "10" "444b522d5641432d395851374c4d3241"
    "0221fe31dfa100089e0a0baa5041c3af737361746f75204e274469617965"
)
# ...and version 1.
EXAMPLE_TOKEN = (
    "AEQ74MO7UGWAEAAITYFAXKSQCFA4HL3TONQXI33VEBHCORDJMF4WLJCEM6RZ4UY3ZHLQ4MW252CQSNBPMYGH57KXEIQ"
    "355NIBARVROSW24OFCBUF3QCTDFOOJB5I7QGIOJ47ZFKKAJVBE3IX73YJHHCPQ4FQ"
)
EXAMPLE_KEYS = {"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "EH7DDX5B",
                          "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}
EXAMPLE_MESSAGE_HEX = (
    "63616d706169676e69642d636172642d7631" "10" "444b522d5641432d395851374c4d3241"
    "0121fe31dfa1ac0200089e0a0baa501141c3af737361746f75204e274469617965"
)


def _context(browser, *, allowed_prefix, webcrypto=True):
    context = allowlisted_context(browser, allowed_prefix)
    if not webcrypto:
        context.add_init_script(WITHOUT_WEBCRYPTO_ED25519)
    return context


@pytest.fixture
def offline_without_webcrypto(browser):
    context = _context(browser, allowed_prefix="file://", webcrypto=False)
    yield context
    context.close()


@pytest.fixture
def field(tmp_path):
    """A job's portal, unzipped, and its cards: valid, revoked (before packaging), expired,
    plus a card of another program that the portal does not know."""
    program = make_program(name="Programme élargi de vaccination")
    campaign = make_campaign(program=program, prefix="DKR-VAC", language="fr",
                             card_validity_months=12)
    people = [
        make_beneficiary(campaign=campaign, first_name="Aïssatou", last_name="N'Diaye",
                         date_of_birth=date(2019, 5, 17)),
        make_beneficiary(campaign=campaign, first_name="Moussa", last_name="Diop",
                         date_of_birth=date(2018, 1, 2)),
    ]
    job = make_job(campaign=campaign)
    valid, revoked = cards_assign(job=job, beneficiaries=people)
    card_revoke(card=revoked, reason="lost")
    expired = make_card(campaign=campaign, issued_on=date(2024, 1, 1),
                        expires_on=date(2024, 12, 31))
    stranger = make_card(campaign=make_campaign(program=make_program(), prefix="THS-MILD"))
    _kind, _name, path = portal_build(job=job, workdir=str(tmp_path))
    folder = tmp_path / "portal"
    with zipfile.ZipFile(path) as archive:
        archive.extractall(folder)
    return {
        "index": (folder / "index.html").as_uri(),
        "valid": valid, "revoked": revoked, "expired": expired, "stranger": stranger,
    }


def _tampered(token):
    """One character changed (inside the signature): another digit, or another base32
    letter for a version 1 token."""
    position = len(token) - 10
    if token.isdigit():
        replacement = "1" if token[position] != "1" else "2"
    else:
        replacement = "A" if token[position] != "A" else "B"
    return token[:position] + replacement + token[position + 1:]


def _version_1_token(card):
    """The token a card issued before version 2 carried: base32, the program id inside."""
    program = card.campaign.program
    person = card.beneficiary
    claims = CardClaims(name=f"{person.first_name} {person.last_name}",
                        birth_date=person.date_of_birth, program_id=program.pk,
                        campaign_type="vaccination", issued_on=card.issued_on,
                        expires_on=card.expires_on)
    return CardSigner(signing_key_for(program=program)).sign(code=card.code, payload=claims,
                                                             version=1)


def _field_text(page, name):
    return page.text_content(f'[data-field="{name}"]')


def _only_files_were_requested(context):
    """Files, and at most the portal's one try at its campaign's newest status list (blocked
    here; it carries nothing the portal does not already hold)."""
    status_url = f"{settings.PUBLIC_BASE_URL}/v/status/DKR-VAC.bin"
    return all(url.startswith("file://") or url == status_url for url in context.requested)


# Offline portal ---------------------------------------------------------------------------


def test_portal_shows_a_valid_cards_signed_details(offline, field):
    page = check_in_portal(offline, field, scanned_link(field["valid"]))

    assert verdict(page) == "valid"
    assert page.get_attribute("#result", "data-engine") == "webcrypto"
    assert _field_text(page, "name") == "Aïssatou N'Diaye"
    assert _field_text(page, "birthDate") == "17/05/2019"
    assert _field_text(page, "campaignType") == "Vaccination"
    assert _only_files_were_requested(offline)


def test_portal_calls_a_token_with_one_character_changed_forged(offline, field):
    token = _tampered(field["valid"].token)

    page = check_in_portal(offline, field, scanned_link(field["valid"], token))

    assert verdict(page) == "forged"
    assert not page.is_visible("#details")
    assert "Aïssatou" not in page.content()


def test_portal_calls_a_token_under_another_code_forged(offline, field):
    page = check_in_portal(offline, field, scanned_link(field["revoked"], field["valid"].token))

    assert verdict(page) == "forged"


def test_portal_calls_another_programs_card_forged(offline, field):
    page = check_in_portal(offline, field, scanned_link(field["stranger"]))

    assert verdict(page) == "forged"


def test_portal_verifies_a_version_1_cards_token(offline, field):
    page = check_in_portal(offline, field,
                           scanned_link(field["valid"], _version_1_token(field["valid"])))

    assert verdict(page) == "valid"
    assert _field_text(page, "name") == "Aïssatou N'Diaye"


def test_portal_reads_the_printed_qrs_capital_link(offline, field):
    card = field["valid"]
    page = check_in_portal(offline, field, f"HTTPS://VERIFY.EXAMPLE.SN/V/C/{card.code}#{card.token}")

    assert verdict(page) == "valid"
    assert _field_text(page, "name") == "Aïssatou N'Diaye"


def test_portal_says_revoked_for_a_card_revoked_before_packaging(offline, field):
    page = check_in_portal(offline, field, scanned_link(field["revoked"]))

    assert verdict(page) == "revoked"
    assert _field_text(page, "revokedOn") == date.today().strftime("%d/%m/%Y")


def test_portal_says_expired_for_an_expired_card(offline, field):
    page = check_in_portal(offline, field, scanned_link(field["expired"]))

    assert verdict(page) == "expired"
    assert _field_text(page, "expiresOn") == "31/12/2024"


def test_portal_says_unknown_for_a_code_not_in_its_registry(offline, field):
    page = check_in_portal(offline, field, "DKR-VAC-ZZZZZZZZ")

    assert verdict(page) == "unknown"


def test_portal_answers_a_typed_code_without_personal_data(offline, field):
    page = check_in_portal(offline, field, f"  {field['valid'].code.lower()} ")

    assert verdict(page) == "valid"
    assert page.query_selector('[data-field="name"]') is None
    assert _field_text(page, "code") == field["valid"].code


def test_portal_verifies_with_the_pure_js_fallback_without_webcrypto_ed25519(
    offline_without_webcrypto, field
):
    page = check_in_portal(offline_without_webcrypto, field, scanned_link(field["valid"]))

    assert verdict(page) == "valid"
    assert page.get_attribute("#result", "data-engine") == "noble"
    assert _field_text(page, "name") == "Aïssatou N'Diaye"


def test_portal_fallback_still_calls_a_changed_token_forged(offline_without_webcrypto, field):
    token = _tampered(field["valid"].token)

    page = check_in_portal(offline_without_webcrypto, field, scanned_link(field["valid"], token))

    assert verdict(page) == "forged"
    assert page.get_attribute("#result", "data-engine") == "noble"


def test_portal_switches_between_french_english_and_wolof(offline, field):
    page = check_in_portal(offline, field, scanned_link(field["revoked"]))
    titles = {}
    for language in ("fr", "en", "wo"):
        page.click(f'[data-lang="{language}"]')
        titles[language] = page.text_content("#verdict-title")
        assert page.get_attribute("html", "lang") == language

    assert titles == {"fr": "Carte révoquée", "en": "Revoked card",
                      "wo": "Kàrt bi dañu ko neenal"}


# The verifier itself: the token format's worked example ------------------------------------


def _verifier_page(context):
    page = context.new_page()
    page.goto((STATIC / "vendor" / "README.md").as_uri())  # any file:// page will do
    page.add_script_tag(path=str(STATIC / "vendor" / "noble-crypto.js"))
    page.add_script_tag(path=str(STATIC / "verify.js"))
    return page


@pytest.mark.parametrize("webcrypto", [True, False], ids=["webcrypto", "noble"])
def test_the_js_verifier_reproduces_the_version_2_worked_example(browser, webcrypto):
    context = _context(browser, allowed_prefix="file://", webcrypto=webcrypto)
    page = _verifier_page(context)

    result = page.evaluate(
        """([code, token, keys]) => {
          const V = window.CampaignIDVerify;
          const decoded = V.decodeToken(token);
          const hex = Array.from(V.signedMessage(code, decoded.payload),
                                 b => b.toString(16).padStart(2, '0')).join('');
          return V.verifyCard(code, token, keys).then(check => ({
            claims: decoded.claims, kid: decoded.kid, hex, payloadLength: decoded.payload.length,
            genuine: check.genuine, engine: check.engine,
          }));
        }""",
        [EXAMPLE_CODE, V2_EXAMPLE_TOKEN, EXAMPLE_KEYS],
    )
    context.close()

    assert result["claims"] == {
        "name": "Aïssatou N'Diaye", "birthDate": "2019-05-17", "programId": None,
        "campaignType": "vaccination", "issuedOn": "2026-01-15", "expiresOn": "2027-01-15",
    }
    assert result["kid"] == "EH7DDX5B"
    assert result["payloadLength"] == 30
    assert result["hex"] == V2_EXAMPLE_MESSAGE_HEX
    assert result["genuine"] is True
    assert result["engine"] == ("webcrypto" if webcrypto else "noble")


def test_the_js_verifier_rejects_malformed_version_2_tokens(offline):
    page = _verifier_page(offline)

    reasons = page.evaluate(
        """([code, token, keys]) => Promise.all([
            '0' + token,                       // one more digit: no byte count gives 228
            token.slice(1),                    // one digit fewer
            '9'.repeat(token.length),          // larger than 94 bytes can hold
            token.slice(0, 100),
            '1'.repeat(5000),
            token.slice(0, 2) + '3' + token.slice(3),   // version byte no longer 2
          ].map(t => window.CampaignIDVerify.verifyCard(code, t, keys).then(r => r.reason)))""",
        [EXAMPLE_CODE, V2_EXAMPLE_TOKEN, EXAMPLE_KEYS],
    )

    assert reasons == ["bad encoding"] * 6


@pytest.mark.parametrize("webcrypto", [True, False], ids=["webcrypto", "noble"])
def test_the_js_verifier_reproduces_the_worked_example(browser, webcrypto):
    context = _context(browser, allowed_prefix="file://", webcrypto=webcrypto)
    page = _verifier_page(context)

    result = page.evaluate(
        """([code, token, keys]) => {
          const V = window.CampaignIDVerify;
          const decoded = V.decodeToken(token);
          const hex = Array.from(V.signedMessage(code, decoded.payload),
                                 b => b.toString(16).padStart(2, '0')).join('');
          return V.verifyCard(code, token, keys).then(check => ({
            claims: decoded.claims, kid: decoded.kid, hex, payloadLength: decoded.payload.length,
            genuine: check.genuine, engine: check.engine,
          }));
        }""",
        [EXAMPLE_CODE, EXAMPLE_TOKEN, EXAMPLE_KEYS],
    )
    context.close()

    assert result["claims"] == {
        "name": "Aïssatou N'Diaye", "birthDate": "2019-05-17", "programId": 300,
        "campaignType": "vaccination", "issuedOn": "2026-01-15", "expiresOn": "2027-01-15",
    }
    assert result["kid"] == "EH7DDX5B"
    assert result["payloadLength"] == 33
    assert result["hex"] == EXAMPLE_MESSAGE_HEX
    assert result["genuine"] is True
    assert result["engine"] == ("webcrypto" if webcrypto else "noble")


def test_the_js_verifier_rejects_non_canonical_and_malformed_tokens(offline):
    page = _verifier_page(offline)

    reasons = page.evaluate(
        """([code, token, keys]) => Promise.all([
            token.slice(0, -1) + 'R',          // unused low bits of the last character set
            token.toLowerCase(),
            token.slice(0, -3),                // a length base32 cannot produce
            token.slice(0, 40),
            'AI' + token.slice(2),             // version 2 (first byte 0x02)
          ].map(t => window.CampaignIDVerify.verifyCard(code, t, keys).then(r => r.reason)))""",
        [EXAMPLE_CODE, EXAMPLE_TOKEN, EXAMPLE_KEYS],
    )

    assert reasons == ["bad encoding"] * 5


# Online page ------------------------------------------------------------------------------


@pytest.fixture
def online(browser, live_server):
    context = _context(browser, allowed_prefix=live_server.url)
    yield context
    context.close()


@pytest.fixture
def online_without_webcrypto(browser, live_server):
    context = _context(browser, allowed_prefix=live_server.url, webcrypto=False)
    yield context
    context.close()


def _page_check(context, live_server, card, token=None):
    page = context.new_page()
    url = f"{live_server.url}/v/c/{card.code}"
    page.goto(f"{url}#{token or card.token}" if token is not False else url)
    page.wait_for_selector("#result[data-checked]")
    return page


def test_online_page_shows_a_valid_cards_signed_details(online, live_server, field):
    page = _page_check(online, live_server, field["valid"])

    assert verdict(page) == "valid"
    assert page.get_attribute("#result", "data-engine") == "webcrypto"
    assert _field_text(page, "name") == "Aïssatou N'Diaye"
    assert _field_text(page, "birthDate") == "17/05/2019"
    assert page.is_visible("#signed")


def test_online_page_without_token_shows_no_signed_details(online, live_server, field):
    page = _page_check(online, live_server, field["valid"], token=False)

    assert verdict(page) == "valid"
    assert not page.is_visible("#signed")
    assert "Aïssatou" not in page.content()


def test_online_page_calls_a_token_with_one_character_changed_forged(online, live_server, field):
    page = _page_check(online, live_server, field["valid"], _tampered(field["valid"].token))

    assert verdict(page) == "forged"
    assert not page.is_visible("#signed")


def test_online_page_calls_another_programs_token_forged(online, live_server, field):
    page = _page_check(online, live_server, field["valid"], field["stranger"].token)

    assert verdict(page) == "forged"


def test_online_page_verifies_a_version_1_cards_token(online, live_server, field):
    page = _page_check(online, live_server, field["valid"], _version_1_token(field["valid"]))

    assert verdict(page) == "valid"
    assert _field_text(page, "name") == "Aïssatou N'Diaye"


def test_online_page_opened_from_the_printed_capital_link_verifies(online, live_server, field):
    card = field["valid"]
    page = online.new_page()
    page.goto(f"{live_server.url}/V/C/{card.code}#{card.token}")
    page.wait_for_selector("#result[data-checked]")

    assert verdict(page) == "valid"
    assert _field_text(page, "name") == "Aïssatou N'Diaye"


def _change_fragment(page, token):
    """What pasting the same link with another fragment does: no new page, a hashchange."""
    checks = int(page.get_attribute("#result", "data-checks"))
    page.evaluate("token => { window.location.hash = token; }", token)
    page.wait_for_selector(f'#result[data-checks="{checks + 1}"]')


def test_online_page_checks_again_when_only_the_fragment_changes_to_a_genuine_token(
    online, live_server, field
):
    card = field["valid"]
    page = _page_check(online, live_server, card, field["stranger"].token)
    assert verdict(page) == "forged"

    _change_fragment(page, card.token)

    assert verdict(page) == "valid"
    assert page.is_visible("#signed")
    assert _field_text(page, "name") == "Aïssatou N'Diaye"
    assert page.text_content("#verdict-title") == "Carte valide"


def test_online_page_checks_again_when_only_the_fragment_changes_to_a_forged_token(
    online, live_server, field
):
    card = field["valid"]
    page = _page_check(online, live_server, card)
    assert _field_text(page, "name") == "Aïssatou N'Diaye"

    _change_fragment(page, _tampered(card.token))

    assert verdict(page) == "forged"
    assert not page.is_visible("#signed")
    assert "Aïssatou" not in page.content()
    assert page.get_attribute('[data-lang-link][lang="en"]', "href").endswith(
        "#" + _tampered(card.token)
    )


def test_online_page_says_revoked(online, live_server, field):
    page = _page_check(online, live_server, field["revoked"])

    assert verdict(page) == "revoked"


def test_online_page_says_expired(online, live_server, field):
    page = _page_check(online, live_server, field["expired"])

    assert verdict(page) == "expired"


def test_online_page_says_unknown_for_an_unknown_code(online, live_server, field):
    page = online.new_page()
    page.goto(f"{live_server.url}/v/c/DKR-VAC-ZZZZZZZZ#{field['valid'].token}")
    page.wait_for_selector("#result[data-checked]")

    assert verdict(page) == "unknown"


def test_online_page_verifies_with_the_pure_js_fallback(online_without_webcrypto, live_server,
                                                        field):
    page = _page_check(online_without_webcrypto, live_server, field["valid"])

    assert verdict(page) == "valid"
    assert page.get_attribute("#result", "data-engine") == "noble"
    assert _field_text(page, "name") == "Aïssatou N'Diaye"


def test_online_page_language_switch_keeps_the_token(online, live_server, field):
    page = _page_check(online, live_server, field["valid"])

    page.click('[data-lang-link][lang="en"]')
    page.wait_for_selector("#result[data-checked]")

    assert page.get_attribute("html", "lang") == "en"
    assert _field_text(page, "name") == "Aïssatou N'Diaye"
    assert page.url.endswith("#" + field["valid"].token)


def test_expired_dates_are_compared_with_the_devices_day(offline, field):
    """Sanity check of the fixture: the expired card's last day is well in the past."""
    assert field["expired"].expires_on < date.today() - timedelta(days=1)
    page = check_in_portal(offline, field, field["expired"].code)
    assert verdict(page) == "expired"
