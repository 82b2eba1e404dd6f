import base64
import datetime
import io
from types import SimpleNamespace

import pypdfium2 as pdfium
import pytest
import segno
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from PIL import Image, ImageDraw
from segno import consts

from cards.issuing import cards_assign
from cards.qr import MASK, qr, qr_matrix, qr_segments, qr_url, verification_url
from cards.rendering.pdf_qr import QR_LEFT_MM, QR_SIZE_MM, QR_TOP_MM
from cards.signing_keys import program_jwks
from cards.tokens import NAME_MAX_BYTES, CardClaims, CardSigner, card_token_decode
from tests.factories import make_beneficiary, make_campaign, make_job, make_program

LONG_NAME = ("Aïssatou Ndèye Fatou", "Mbaye N'Diaye Diallo Sow")  # > 20 bytes of UTF-8
BASE_URLS = ["https://verify.sante.gouv.sn", "https://verification.programme-sante.gouv.sn"]
LONGEST_BASE_URL = BASE_URLS[1]  # 44 characters
LONGEST_CODE = "ABCD-EFG-23456789"  # an 8-character prefix, the longest a campaign may have
RFC8032_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
DPI = 300


def _card(*, first_name="Awa", last_name="Ba", prefix=None):
    campaign = make_campaign(program=make_program(), prefix=prefix, card_validity_months=24)
    person = make_beneficiary(campaign=campaign, first_name=first_name, last_name=last_name)
    (card,) = cards_assign(job=make_job(campaign=campaign), beneficiaries=[person])
    return card


def _worst_case_card():
    """The longest code with a token carrying the longest name (20 bytes), signed with a
    fixed key: the same QR on every run."""
    signer = CardSigner(SimpleNamespace(kid="EH7DDX5B"),
                        private_key=Ed25519PrivateKey.from_private_bytes(RFC8032_SEED))
    claims = CardClaims(name="Mame Diarra Bousso Ndiaye", birth_date=datetime.date(2019, 5, 17),
                        program_id=None, campaign_type="vaccination",
                        issued_on=datetime.date(2026, 1, 15),
                        expires_on=datetime.date(2027, 1, 15))
    token = signer.sign(code=LONGEST_CODE, payload=claims)
    assert len(card_token_decode(token)[0].name.encode()) == NAME_MAX_BYTES
    return SimpleNamespace(code=LONGEST_CODE, token=token)


def _decode(qrcode):
    buffer = io.BytesIO()
    qrcode.save(buffer, kind="png", scale=4, border=4)
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(buffer.getvalue())))
    assert len(results) == 1
    return results[0].text


@pytest.mark.django_db
def test_verification_url_puts_the_code_in_the_path_and_the_token_in_the_fragment(settings):
    settings.PUBLIC_BASE_URL = "https://verify.sante.gouv.sn"
    card = _card()
    assert verification_url(card) == f"https://verify.sante.gouv.sn/v/c/{card.code}#{card.token}"


def test_the_printed_link_is_in_capitals_up_to_the_fragment(settings):
    settings.PUBLIC_BASE_URL = "https://verify.sante.gouv.sn"
    card = SimpleNamespace(code="DKR-VAC-9XQ7LM2A", token="0123")
    assert qr_url(card) == "HTTPS://VERIFY.SANTE.GOUV.SN/V/C/DKR-VAC-9XQ7LM2A#0123"


def test_the_printed_link_keeps_the_case_of_a_base_urls_path(settings):
    settings.PUBLIC_BASE_URL = "https://sante.gouv.sn/cartes"
    card = SimpleNamespace(code="DKR-VAC-9XQ7LM2A", token="0123")
    url = qr_url(card)
    assert url == "HTTPS://SANTE.GOUV.SN/cartes/V/C/DKR-VAC-9XQ7LM2A#0123"
    # Lower case is not in the alphanumeric set: that head goes in byte mode, still exact.
    assert qr_segments(url)[0] == (url.partition("#")[0], consts.MODE_BYTE)


def test_segments_are_alphanumeric_head_byte_hash_and_numeric_token():
    url = "HTTPS://VERIFY.SANTE.GOUV.SN/V/C/DKR-VAC-9XQ7LM2A#00123"
    assert qr_segments(url) == [
        ("HTTPS://VERIFY.SANTE.GOUV.SN/V/C/DKR-VAC-9XQ7LM2A", consts.MODE_ALPHANUMERIC),
        ("#", consts.MODE_BYTE),
        ("00123", consts.MODE_NUMERIC),
    ]


def test_a_version_1_token_goes_in_an_alphanumeric_segment():
    url = "HTTPS://VERIFY.SANTE.GOUV.SN/V/C/DKR-VAC-9XQ7LM2A#AEQ74MO7"
    assert qr_segments(url)[2] == ("AEQ74MO7", consts.MODE_ALPHANUMERIC)


@pytest.mark.parametrize("base_url", BASE_URLS)
def test_qr_for_the_longest_name_and_code_is_at_most_version_10_level_q(settings, base_url):
    settings.PUBLIC_BASE_URL = base_url
    code = qr(qr_url(_worst_case_card()))
    print(f"{base_url}: version {code.version}-{code.error}")
    assert code.version <= 10
    assert code.error == "Q"


@pytest.mark.django_db
def test_an_issued_cards_qr_for_a_long_name_is_at_most_version_10_level_q(settings):
    settings.PUBLIC_BASE_URL = LONGEST_BASE_URL
    card = _card(first_name=LONG_NAME[0], last_name=LONG_NAME[1], prefix="ABCD-EFG")
    code = qr(qr_url(card))
    assert (code.version <= 10, code.error) == (True, "Q")


def test_segmented_qr_is_smaller_than_one_byte_mode_segment(settings):
    settings.PUBLIC_BASE_URL = LONGEST_BASE_URL
    url = qr_url(_worst_case_card())
    plain = segno.make(url, error="Q", boost_error=False, micro=False)
    assert qr(url).version < plain.version


def test_qr_uses_the_fixed_mask():
    assert qr(qr_url(_worst_case_card())).mask == MASK


def test_matrix_is_one_row_per_module_without_quiet_zone():
    url = qr_url(_worst_case_card())
    matrix = qr_matrix(url)
    assert len(matrix) == 17 + 4 * qr(url).version
    assert all(len(row) == len(matrix) for row in matrix)
    # The finder pattern's dark border starts at the very first module: no quiet zone.
    assert all(matrix[0][:7]) and all(row[0] for row in matrix[:7])


@pytest.mark.django_db
@pytest.mark.parametrize("base_url", BASE_URLS)
def test_decoded_qr_gives_back_the_exact_url(settings, base_url):
    settings.PUBLIC_BASE_URL = base_url
    url = qr_url(_card(first_name=LONG_NAME[0], last_name=LONG_NAME[1]))
    assert _decode(qr(url)) == url


def test_a_version_1_cards_link_still_encodes_and_decodes(settings):
    settings.PUBLIC_BASE_URL = LONGEST_BASE_URL
    signer = CardSigner(SimpleNamespace(kid="EH7DDX5B"),
                        private_key=Ed25519PrivateKey.from_private_bytes(RFC8032_SEED))
    claims = CardClaims(name="Aïssatou N'Diaye", birth_date=None, program_id=300,
                        campaign_type="vaccination", issued_on=datetime.date(2026, 1, 15),
                        expires_on=None)
    card = SimpleNamespace(code=LONGEST_CODE,
                           token=signer.sign(code=LONGEST_CODE, payload=claims, version=1))
    assert _decode(qr(qr_url(card))) == qr_url(card)


@pytest.mark.django_db
def test_token_read_from_the_qr_verifies_with_the_jwks_key_alone(settings):
    """An independent check of the published format: decimal digits, last 64 bytes the
    signature, message = tag || len(code) || code || payload, key from the JWKS `x`."""
    settings.PUBLIC_BASE_URL = BASE_URLS[0]
    card = _card(first_name=LONG_NAME[0], last_name=LONG_NAME[1])
    scanned = _decode(qr(qr_url(card)))
    path, _, token = scanned.partition("#")
    code = path.rsplit("/", 1)[1]
    size = next(n for n in range(1, 400) if len(str(256**n - 1)) == len(token))
    raw = int(token).to_bytes(size, "big")
    payload, signature = raw[:-64], raw[-64:]
    kid = base64.b32encode(payload[1:6]).decode()
    (jwk,) = [k for k in program_jwks(program=card.campaign.program)["keys"] if k["kid"] == kid]
    x = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
    message = b"campaignid-card-v2" + bytes([len(code)]) + code.encode() + payload
    Ed25519PublicKey.from_public_bytes(x).verify(signature, message)  # raises if invalid
    assert code == card.code


@pytest.mark.django_db
def test_the_printed_links_capital_path_opens_the_cards_page(client):
    card = _card()
    response = client.get(f"/V/C/{card.code}")
    assert response.status_code == 200
    assert response.context["card"] == card


# A damaged card: the QR read from the card's 300 dpi PNG and from its print PDF with a black
# bar over a quarter of it. Level Q restores up to 12 of each block's 43-44 codewords; a bar
# 14 modules wide (24.6% of a version 10 symbol), full height, over the centre and clear of
# the three finder patterns, covering seven whole two-module columns of codewords.
BAR_MODULES = 14
BAR_FIRST_COLUMN = 21


def _worst_case_pdf_and_png(settings):
    from tests.card_helpers import card, renderer

    settings.PUBLIC_BASE_URL = LONGEST_BASE_URL
    url = qr_url(_worst_case_card())
    pdf, pngs = renderer(dpi=DPI).render_fronts([card(
        code=LONGEST_CODE, first_name="Mame Diarra Bousso", last_name="Ndiaye", qr=qr_matrix(url)
    )])
    return url, pdf, pngs[0]


def _with_bar(image, url):
    """The card image with the black bar drawn over its QR."""
    modules = len(qr_matrix(url))
    assert modules == 57  # version 10: the bar's columns are counted for it
    px_per_mm = DPI / 25.4
    left, top = QR_LEFT_MM * px_per_mm, QR_TOP_MM * px_per_mm
    module = QR_SIZE_MM * px_per_mm / modules
    damaged = image.convert("RGB")
    ImageDraw.Draw(damaged).rectangle(
        [left + BAR_FIRST_COLUMN * module, top,
         left + (BAR_FIRST_COLUMN + BAR_MODULES) * module - 1, top + modules * module - 1],
        fill="black",
    )
    return damaged


def _read(image):
    return [result.text for result in zxingcpp.read_barcodes(image)]


@pytest.mark.slow
def test_a_quarter_of_the_qr_blacked_out_on_the_300_dpi_card_png_still_reads(settings):
    url, _pdf, png = _worst_case_pdf_and_png(settings)
    damaged = _with_bar(Image.open(io.BytesIO(png)), url)
    assert BAR_MODULES / 57 > 0.24
    assert _read(damaged) == [url]


@pytest.mark.slow
def test_a_quarter_of_the_qr_blacked_out_on_the_print_pdf_still_reads(settings):
    url, pdf, _png = _worst_case_pdf_and_png(settings)
    document = pdfium.PdfDocument(pdf)
    try:
        page = document[0].render(scale=DPI / 72).to_pil()
    finally:
        document.close()
    assert _read(_with_bar(page, url)) == [url]
