"""Card PNGs (cards/raster.py): each front maps only its own objects' boxes onto the palette
over the art mapped once per chunk, and is written with ISA-L's deflate. What a person
receives must stay what mapping the whole front with Pillow and saving it with Pillow gave:
the same palette and the same palette index in every pixel.

No database: real cards rendered by the real renderer from unsaved campaigns.
"""

import datetime
import io

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image

from campaigns.models import Campaign, Program
from campaigns.studio import TEMPLATES
from cards import raster
from cards.qr import qr_matrix
from cards.rendering.renderer import CardRenderer

NAMES = [("Awa", "Ba"), ("Aïssatou Ndèye Fatou", "Mbaye N'Diaye Diallo Sow"), ("Jo", "Sy"),
         ("Mame Diarra Bousso", "Ndiaye"), ("Élise", "Ngom-Faye")]


def _renderer(template_id="vaccination", dpi=300):
    program = Program(name="Ministère de la Santé - PEV Sénégal", slug="msas")
    campaign = Campaign(program=program, campaign_type=template_id, name="Rougeole Dakar",
                        prefix="DKR-VAC", language="fr", card_validity_months=24)
    return CardRenderer(campaign=campaign, program=program, dpi=dpi, include_mpi_id=True)


def _cards(template_id="vaccination", count=5):
    """Cards that share few values: names, dates, sexes, doses and token lengths all vary."""
    sample = {field.key: field.sample for field in TEMPLATES[template_id].fields}
    cards = []
    for n in range(count):
        first_name, last_name = NAMES[n % len(NAMES)]
        code = f"DKR-VAC-{'ABCDEFGH'[n % 8]}{n:07d}"
        cards.append({
            "code": code, "first_name": first_name, "last_name": last_name,
            "date_of_birth": datetime.date(2015 + n % 9, 1 + n % 12, 1 + n % 28),
            "sex": "FM"[n % 2], "mpi_id": f"MPI-{n * 7919:09d}" if n % 3 else "",
            "attributes": {**sample, "doses": n % 4 + 1} if n % 4 else {},
            "issued_on": datetime.date(2025, 3, 1),
            "expires_on": datetime.date(2027, 3, 1) if n % 2 else None,
            "qr": qr_matrix(f"HTTPS://VERIFY.SANTE.GOUV.SN/V/C/{code}#{'7' * (180 + 9 * n)}"),
        })
    return cards


def _todays_png(image, palette_image):
    """How every card PNG was written before ISA-L: Pillow maps the whole front, Pillow saves."""
    buffer = io.BytesIO()
    image.quantize(palette=palette_image, dither=Image.Dither.NONE).save(
        buffer, "PNG", compress_level=1
    )
    return buffer.getvalue()


def _pixels(png):
    """(mode, palette, palette index of every pixel) of a PNG, as Pillow decodes it."""
    image = Image.open(io.BytesIO(png))
    image.load()
    return image.mode, image.size, image.getpalette(), image.tobytes()


def _fronts_as_today(renderer, pdf_bytes):
    """Today's PNG of each front of a chunk PDF (front then back of each card)."""
    pdf = pdfium.PdfDocument(pdf_bytes)
    try:
        return [
            _todays_png(front.image(), renderer._palette.image)
            for front in raster.card_fronts(pdf, renderer.pixel_size, step=2)
        ]
    finally:
        pdf.close()


def _assert_same_pixels(pngs, todays):
    assert len(pngs) == len(todays)
    for png, today in zip(pngs, todays, strict=True):
        assert _pixels(png) == _pixels(today)


@pytest.mark.parametrize("template_id", sorted(TEMPLATES))
def test_every_templates_front_pngs_have_todays_palette_index_in_every_pixel(template_id):
    renderer = _renderer(template_id)

    pdf, pngs = renderer.render_fronts(_cards(template_id), with_backs=True)

    _assert_same_pixels(pngs, _fronts_as_today(renderer, pdf))


@pytest.mark.slow
@pytest.mark.parametrize("dpi", [450, 600])
def test_front_pngs_have_todays_palette_index_in_every_pixel_at_higher_dpi(dpi):
    renderer = _renderer(dpi=dpi)

    pdf, pngs = renderer.render_fronts(_cards(count=3), with_backs=True)

    _assert_same_pixels(pngs, _fronts_as_today(renderer, pdf))


def test_the_back_png_has_todays_palette_index_in_every_pixel():
    renderer = _renderer()

    today = _todays_png(renderer._back_image, renderer._palette.image)

    assert _pixels(renderer.back_png_bytes()) == _pixels(today)


def test_a_palette_of_16_colours_or_fewer_keeps_pillows_smaller_pixels():
    # Pillow writes such a palette with 4 bits a pixel or fewer; raster leaves it to Pillow.
    renderer = _renderer()
    _, (png,) = renderer.render_fronts(_cards(count=1))
    front = Image.open(io.BytesIO(png)).convert("RGB")
    few = front.quantize(colors=12, method=Image.Quantize.MEDIANCUT)

    encoded = raster.encode_png(front, raster.Palette(few))

    assert _pixels(encoded) == _pixels(_todays_png(front, few))
    assert encoded[24] == 4  # IHDR's bit depth


def test_a_front_png_passes_pillows_checks_and_its_qr_reads():
    _, (png,) = _renderer().render_fronts(_cards(count=1))

    Image.open(io.BytesIO(png)).verify()  # chunk CRCs
    image = Image.open(io.BytesIO(png)).convert("RGB")  # zlib stream and its checksum
    (result,) = zxingcpp.read_barcodes(image)
    assert result.text.startswith("HTTPS://VERIFY.SANTE.GOUV.SN/V/C/DKR-VAC-A0000000#")


def test_a_300_dpi_front_png_stays_about_30_kb():
    _, pngs = _renderer().render_fronts(_cards())

    assert all(25_000 < len(png) < 40_000 for png in pngs)
