"""Typeset fronts (cards/rendering/layers.py) against the full WeasyPrint path
(CARD_LAYOUT=reference): the same pixels for every template and language, long names and
combining marks included, the same text in the PDF.

No database: the renderer takes unsaved Program and Campaign instances and plain dicts.
"""

import datetime
import io
import logging

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageChops

from campaigns.models import Campaign, Program
from campaigns.studio import TEMPLATES
from cards.qr import qr_matrix
from cards.rendering.renderer import CardRenderer

pytestmark = pytest.mark.slow

LANGUAGES = ("fr", "en", "wo")
NAMES = [
    ("Aïssatou", "N'Diaye"),
    ("Moussa", "Ba"),
    ("Ndèye Fatou", "Sène"),
    ("Ousmane", "Ñdiaye"),  # Wolof ñ, ë, ŋ
    ("Mbëgte", "Ŋom"),
    ("Nde\u0300ye", "Faye"),  # a combining grave: composed by the shaper
    ("Ma\u0331ryam", "Sy"),  # macron below: no composed form, the mark is placed
    ("Marie-Françoise Ndèye Coumba", "Diallo-Sarr Mbengue"),  # too long for one line
    ("Abdourahmanealioumamadoubamba", "Sow"),  # one long word, shrunk
    ("Ивана", "Петрова"),  # Cyrillic in the bundled font
    ("فاطمة", "جالو"),  # right to left
    ("王", "芳"),  # not in the bundled font
    ("Jean", "N\u2019Guessan"),
    ("Yaya", "Touré"),
]


def campaign(template_id, language):
    program = Program(name="Ministère de la Santé - PEV Sénégal", slug="msas")
    return Campaign(
        program=program, name="Campagne", prefix="DKR-VAC", language=language,
        campaign_type=template_id, template_id=template_id, card_validity_months=24,
    )


def cards(template_id):
    fields = TEMPLATES[template_id].fields
    result = []
    for number, (first, last) in enumerate(NAMES):
        code = f"DKR-VAC-{number:02d}XQ7LM2"[:16]
        result.append({
            "code": code,
            "first_name": first,
            "last_name": last,
            "date_of_birth": datetime.date(2015 + number % 7, 1 + number % 12, 1 + number),
            "sex": "MF"[number % 2],
            "mpi_id": f"MPI-{100234567 + number * 7919}",
            # Values that differ from card to card, so each front prints its own rows.
            "attributes": {
                field.key: (number % 4 + 1 if field.kind != "text" else f"{field.sample} {number}")
                for field in fields
            },
            "issued_on": datetime.date(2025, 3, 1),
            "expires_on": datetime.date(2027, 3, 1),
            "qr": qr_matrix(f"HTTPS://VERIFY.EXAMPLE.ORG/V/C/{code}#{'7' * 200}"),
        })
    return result


def render(settings, layout, template_id, language, dpi=300):
    settings.CARD_LAYOUT = layout
    camp = campaign(template_id, language)
    renderer = CardRenderer(campaign=camp, program=camp.program, dpi=dpi, include_mpi_id=True)
    pdf, pngs = renderer.render_fronts(cards(template_id), with_backs=True)
    return renderer, pdf, pngs


def identical_share(png_a, png_b):
    a = Image.open(io.BytesIO(png_a)).convert("RGB")
    b = Image.open(io.BytesIO(png_b)).convert("RGB")
    assert a.size == b.size
    same = ImageChops.difference(a, b).convert("L").histogram()[0]
    return same / (a.width * a.height)


def page_texts(pdf_bytes):
    pdf = pdfium.PdfDocument(pdf_bytes)
    try:
        return [page.get_textpage().get_text_range() for page in pdf]
    finally:
        pdf.close()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template_id", sorted(TEMPLATES))
def test_typeset_fronts_match_the_weasyprint_path_pixel_for_pixel(settings, template_id, language):
    _, _, reference = render(settings, "reference", template_id, language)
    _, _, typeset = render(settings, "layers", template_id, language)
    shares = [identical_share(a, b) for a, b in zip(reference, typeset, strict=True)]
    assert min(shares) >= 0.995, shares


def test_most_fronts_are_typeset_and_the_rest_laid_out_by_weasyprint(settings):
    renderer, _, _ = render(settings, "layers", "vaccination", "fr")
    # Laid out: the model and check cards, the long name, the placed mark, the right-to-left
    # and the missing-font names.
    assert renderer.fallbacks == 0
    assert len(NAMES) - 6 <= renderer.typeset < len(NAMES)


def test_typeset_fronts_keep_their_text_selectable(settings):
    _, reference_pdf, _ = render(settings, "reference", "vaccination", "wo")
    _, typeset_pdf, _ = render(settings, "layers", "vaccination", "wo")
    assert page_texts(typeset_pdf) == page_texts(reference_pdf)
    assert "Mbëgte ŊOM" in "".join(page_texts(typeset_pdf))


@pytest.mark.parametrize("dpi", [450, 600])
def test_typeset_fronts_match_at_higher_resolutions(settings, dpi):
    *_, reference = render(settings, "reference", "hiv", "en", dpi=dpi)
    *_, typeset = render(settings, "layers", "hiv", "en", dpi=dpi)
    assert min(map(identical_share, reference, typeset)) >= 0.995


def test_the_reference_layout_typesets_nothing(settings, caplog):
    with caplog.at_level(logging.WARNING, logger="cards.rendering.renderer"):
        renderer, _, pngs = render(settings, "reference", "nutrition", "fr")
    fell_back = [r for r in caplog.records if r.name == "cards.rendering.renderer"]
    assert (renderer.typeset, len(pngs), fell_back) == (0, len(NAMES), [])
