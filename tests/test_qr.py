import base64
import io

import pytest
import segno
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from PIL import Image

from cards.issuing import cards_assign
from cards.qr import MASK, qr, qr_matrix, verification_url
from cards.signing_keys import program_jwks
from tests.factories import make_beneficiary, make_campaign, make_job, make_program

pytestmark = pytest.mark.django_db

LONG_NAME = ("Aïssatou Ndèye Fatou", "Mbaye N'Diaye Diallo Sow")  # > 40 bytes of UTF-8
BASE_URLS = ["https://verify.sante.gouv.sn", "https://verification.programme-sante.gouv.sn"]


def _card(*, first_name="Awa", last_name="Ba", prefix=None):
    campaign = make_campaign(program=make_program(), prefix=prefix, card_validity_months=24)
    person = make_beneficiary(campaign=campaign, first_name=first_name, last_name=last_name)
    (card,) = cards_assign(job=make_job(campaign=campaign), beneficiaries=[person])
    return card


def _decode(qrcode):
    buffer = io.BytesIO()
    qrcode.save(buffer, kind="png", scale=4, border=4)
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(buffer.getvalue())))
    assert len(results) == 1
    return results[0].text


def test_verification_url_puts_the_code_in_the_path_and_the_token_in_the_fragment(settings):
    settings.PUBLIC_BASE_URL = "https://verify.sante.gouv.sn"
    card = _card()
    assert verification_url(card) == f"https://verify.sante.gouv.sn/v/c/{card.code}#{card.token}"


@pytest.mark.parametrize("base_url", BASE_URLS)
def test_qr_for_a_long_name_and_long_base_url_is_at_most_version_10_level_m(settings, base_url):
    settings.PUBLIC_BASE_URL = base_url
    card = _card(first_name=LONG_NAME[0], last_name=LONG_NAME[1], prefix="ABCD-EFG")
    code = qr(verification_url(card))
    assert code.version <= 10
    assert code.error == "M"


def test_segmented_qr_is_smaller_than_one_byte_mode_segment(settings):
    settings.PUBLIC_BASE_URL = BASE_URLS[1]
    url = verification_url(_card(first_name=LONG_NAME[0], last_name=LONG_NAME[1]))
    plain = segno.make(url, error="M", boost_error=False, micro=False)
    assert qr(url).version < plain.version


def test_qr_uses_the_fixed_mask():
    assert qr(verification_url(_card())).mask == MASK


def test_matrix_is_one_row_per_module_without_quiet_zone():
    url = verification_url(_card())
    matrix = qr_matrix(url)
    assert len(matrix) == 17 + 4 * qr(url).version
    assert all(len(row) == len(matrix) for row in matrix)
    # The finder pattern's dark border starts at the very first module: no quiet zone.
    assert all(matrix[0][:7]) and all(row[0] for row in matrix[:7])


@pytest.mark.parametrize("base_url", BASE_URLS)
def test_decoded_qr_gives_back_the_exact_url(settings, base_url):
    settings.PUBLIC_BASE_URL = base_url
    url = verification_url(_card(first_name=LONG_NAME[0], last_name=LONG_NAME[1]))
    assert _decode(qr(url)) == url


def test_token_read_from_the_qr_verifies_with_the_jwks_key_alone(settings):
    """An independent check of the published format: base32, last 64 bytes signature,
    message = tag || len(code) || code || payload, key from the JWKS `x`."""
    settings.PUBLIC_BASE_URL = BASE_URLS[0]
    card = _card(first_name=LONG_NAME[0], last_name=LONG_NAME[1])
    scanned = _decode(qr(verification_url(card)))
    path, _, token = scanned.partition("#")
    code = path.rsplit("/", 1)[1]
    raw = base64.b32decode(token + "=" * (-len(token) % 8))
    payload, signature = raw[:-64], raw[-64:]
    kid = base64.b32encode(payload[1:6]).decode()
    (jwk,) = [k for k in program_jwks(program=card.campaign.program)["keys"] if k["kid"] == kid]
    x = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
    message = b"campaignid-card-v1" + bytes([len(code)]) + code.encode() + payload
    Ed25519PublicKey.from_public_bytes(x).verify(signature, message)  # raises if invalid
    assert code == card.code
