"""Card Studio templates and the HTML -> PDF -> PNG renderer (campaigns/studio.py,
cards/rendering/).

No database: the renderer takes unsaved Program and Campaign instances and plain dicts.
"""

import datetime
import io
import itertools

import pypdf
import pypdfium2 as pdfium
import pytest
import weasyprint
import zxingcpp
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image

from campaigns.studio import (
    TEMPLATES,
    card_design,
    optional_field_choices,
    template_options_validate,
)
from cards.rendering.errors import CardRenderError
from cards.rendering.preview import render_preview_png
from tests.card_helpers import URL, campaign, card, program, renderer

ID1_WIDTH_PT = 85.60 / 25.4 * 72
ID1_HEIGHT_PT = 53.98 / 25.4 * 72
MM = 72 / 25.4


def page_text(pdf_bytes, index=0):
    pdf = pdfium.PdfDocument(pdf_bytes)
    try:
        return pdf[index].get_textpage().get_text_range()
    finally:
        pdf.close()


def test_chunk_pdf_has_one_id1_page_per_card():
    pdf, pngs = renderer().render_fronts([card(code=f"DKR-VAC-AAAA{n:04d}") for n in range(7)])

    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) == 7 and len(pngs) == 7
    for page in pages:
        assert abs(float(page.mediabox.width) - ID1_WIDTH_PT) < 0.5
        assert abs(float(page.mediabox.height) - ID1_HEIGHT_PT) < 0.5


def test_each_page_carries_its_own_card():
    cards = [card(code=f"DKR-VAC-AAAA{n:04d}", first_name=f"Awa{n}") for n in range(3)]

    pdf, _ = renderer().render_fronts(cards)

    for n in range(3):
        text = page_text(pdf, n)
        assert f"DKR-VAC-AAAA{n:04d}" in text
        assert f"Awa{n}" in text
        assert "Carte de vaccination" in text  # the shared art is drawn on every page


@pytest.mark.slow
def test_a_chunk_rendered_twice_gives_the_same_bytes():
    # A retried chunk job must produce the same files.
    cards = [card(code=f"DKR-VAC-AAAA{n:04d}") for n in range(3)]

    first = renderer().render_fronts(cards)
    second = renderer().render_fronts(cards)

    assert first == second


@pytest.mark.parametrize(("dpi", "size"), [(300, (1011, 638)), (450, (1517, 956)),
                                           (600, (2022, 1275))])
def test_png_has_the_exact_card_size_at_the_job_dpi(dpi, size):
    _, pngs = renderer(dpi=dpi).render_fronts([card()])

    image = Image.open(io.BytesIO(pngs[0]))
    assert image.format == "PNG"
    assert image.size == size


@pytest.mark.parametrize("language", ["fr", "en", "wo"])
@pytest.mark.parametrize("template_id", sorted(TEMPLATES))
def test_every_template_renders_in_every_language(template_id, language):
    template = TEMPLATES[template_id]
    attributes = {field.key: field.sample for field in template.fields}
    r = renderer(campaign(campaign_type=template_id, language=language))

    pdf, pngs = r.render_fronts([card(attributes=attributes)])

    text = page_text(pdf)
    assert template.titles[language] in text
    assert all(field.labels[language] in text for field in template.fields)
    assert Image.open(io.BytesIO(pngs[0])).size == (1011, 638)
    assert Image.open(io.BytesIO(r.back_png_bytes())).size == (1011, 638)


def test_labels_and_dates_follow_the_campaign_language():
    pdf, _ = renderer(campaign(language="en")).render_fronts([card()])

    text = page_text(pdf)
    assert "Date of birth" in text and "Female" in text
    assert "17/05/2019" in text


def test_long_accented_name_stays_inside_the_card_and_clear_of_the_qr():
    long_name = "Marie-Françoise Ndèye Coumba Aïssatou Ñdoye"
    r = renderer()

    pdf, _ = r.render_fronts([card(first_name=long_name, last_name="Diallo-Ba N'Diaye Sow Gueye")])

    document = pdfium.PdfDocument(pdf)
    page = document[0]
    width, height = page.get_size()
    text_page = page.get_textpage()
    text = text_page.get_text_range()
    assert "Marie-Françoise Ndèye" in text and "Aïssatou" in text
    qr_left = 58.6 * MM
    for index in range(text_page.count_chars()):
        left, bottom, right, top = text_page.get_charbox(index)
        if right <= left:
            continue  # generated spaces and line breaks have no box
        assert left >= 0 and right <= width and bottom >= 0 and top <= height
        # The name band (13.3 to 20.5 mm from the top) never reaches the QR column.
        if height - 20.5 * MM < (top + bottom) / 2 < height - 13.3 * MM:
            assert right < qr_left
    document.close()


def test_long_name_that_fits_three_lines_is_printed_whole_inside_the_name_box():
    r = renderer()
    name = card(first_name="Ramatoulaye Aïssatou Marie-Christine Ndèye Coumba Binetou",
                last_name="Ouédraogo-N'Guessan Diallo")

    pdf, _ = r.render_fronts([name])

    whole = "Ramatoulaye Aïssatou Marie-Christine Ndèye Coumba Binetou OUÉDRAOGO-N'GUESSAN DIALLO"
    assert r._name(name) == (5.5, whole)
    document = pdfium.PdfDocument(pdf)
    page = document[0]
    height = page.get_size()[1]
    text_page = page.get_textpage()
    assert "OUÉDRAOGO-N'GUESSAN DIALLO" in " ".join(text_page.get_text_range().split())
    assert "…" not in text_page.get_text_range()
    middles = []
    for index in range(text_page.count_chars()):
        left, bottom, right, top = text_page.get_charbox(index)
        middle = height - (top + bottom) / 2
        if right > left and 13.3 * MM < middle < 20.5 * MM:
            middles.append(middle)
            assert height - 20.3 * MM <= bottom  # drawn, not clipped below the 7 mm box
    middles.sort()
    lines = 1 + sum(b - a > 3 for a, b in itertools.pairwise(middles))  # 6.3 pt apart
    assert lines == 3
    document.close()


def test_name_too_long_for_three_lines_ends_with_an_ellipsis():
    r = renderer()

    size, text = r._name(card(first_name=" ".join(["Ramatoulaye"] * 12), last_name="Diallo"))

    assert size == 5.5 and text.endswith("…")
    assert "DIALLO" not in text


def test_missing_optional_values_print_a_dash():
    pdf, pngs = renderer().render_fronts(
        [card(attributes={}, sex="", mpi_id="", expires_on=None)]
    )

    assert page_text(pdf).count("—") == 5  # vaccine, doses, sex, expiry, MPI id
    assert len(pngs) == 1


@pytest.mark.parametrize("dpi", [300, 450, 600])
def test_qr_in_the_png_decodes_to_the_url(dpi):
    _, pngs = renderer(dpi=dpi).render_fronts([card()])

    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(pngs[0])).convert("RGB"))
    assert [result.text for result in results] == [URL]


def test_operator_colour_is_painted_on_the_band():
    camp = campaign(template_options={"primary_colour": "#123456"})

    _, pngs = renderer(camp).render_fronts([card()])

    image = Image.open(io.BytesIO(pngs[0])).convert("RGB")
    assert image.getpixel((500, 10)) == (0x12, 0x34, 0x56)


def test_show_fields_hides_optional_rows():
    camp = campaign(template_options={"show_fields": ["vaccine"]})

    pdf, _ = renderer(camp).render_fronts([card()])

    text = page_text(pdf)
    assert "Penta 3" in text
    assert "Féminin" not in text and "Doses reçues" not in text and "MPI-100234567" not in text


def test_mpi_id_prints_only_when_the_job_asks_for_it():
    pdf, _ = renderer(include_mpi_id=False).render_fronts([card()])

    assert "MPI-100234567" not in page_text(pdf)


def test_title_option_replaces_the_template_title():
    camp = campaign(template_options={"title": "Carte PEV 2025"})

    pdf, _ = renderer(camp).render_fronts([card()])

    assert "Carte PEV 2025" in page_text(pdf)


def test_light_brand_colour_gets_dark_band_text():
    design = card_design(template_id="mild", language="fr",
                         options={"primary_colour": "#FDE68A"})

    assert design.band_text_colour == "#111827"
    assert design.ink_colour == "#111827"


def test_program_logo_is_drawn_in_the_band(media_root):
    logo = io.BytesIO()
    Image.new("RGB", (64, 64), (220, 20, 60)).save(logo, "PNG")
    camp = campaign()
    camp.program.logo.save("logo.png", ContentFile(logo.getvalue()), save=False)

    _, pngs = renderer(camp).render_fronts([card()])

    image = Image.open(io.BytesIO(pngs[0])).convert("RGB")
    centre = (round(6.5 / 25.4 * 300), round(5.5 / 25.4 * 300))
    assert image.getpixel(centre) == (220, 20, 60)


def test_back_side_is_one_page_with_the_verification_address(settings):
    settings.PUBLIC_BASE_URL = "https://verify.example.org"
    r = renderer()

    back = r.back_pdf_bytes()

    assert len(pypdf.PdfReader(io.BytesIO(back)).pages) == 1
    text = page_text(back)
    assert "https://verify.example.org/v" in text
    assert "Ministère de la Santé" in text
    assert "Aïssatou" not in text  # no card data on the shared back


def test_html_in_a_name_is_printed_as_text():
    pdf, _ = renderer().render_fronts([card(first_name='<img src="http://127.0.0.1:9/x.png">')])

    assert '<img src="http://127.0.0.1:9/x.png">' in page_text(pdf).replace("\r\n", "")


@pytest.mark.slow
def test_preview_shows_front_above_back():
    png = render_preview_png(campaign=campaign(), program=program())

    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.height > 2 * image.width * 53.98 / 85.6 * 0.95


def test_preview_rejects_bad_options_naming_the_field():
    with pytest.raises(ValidationError) as error:
        render_preview_png(campaign=campaign(), program=program(),
                           template_options={"accent_colour": "orange"})

    assert "accent_colour" in error.value.message_dict


def test_template_options_validate_rejects_a_bad_colour_naming_the_field():
    with pytest.raises(ValidationError) as error:
        template_options_validate({"primary_colour": "#12345G"}, "vaccination")

    assert "primary_colour" in error.value.message_dict


def test_template_options_validate_rejects_an_unknown_field_key():
    with pytest.raises(ValidationError) as error:
        template_options_validate({"show_fields": ["sex", "blood_group"]}, "mild")

    assert "show_fields" in error.value.message_dict
    assert "blood_group" in error.value.message_dict["show_fields"][0]


def test_template_options_validate_rejects_an_unknown_option():
    with pytest.raises(ValidationError) as error:
        template_options_validate({"font": "Comic Sans"}, "mild")

    assert "font" in error.value.message_dict


def test_optional_field_choices_list_common_then_template_fields():
    assert optional_field_choices("mild", "en") == [
        ("sex", "Sex"), ("expiry", "Expires"), ("mpi_id", "MPI ID"),
        ("nets", "Nets"), ("household_size", "Household size"),
    ]


def test_template_options_validate_cleans_the_options():
    cleaned = template_options_validate(
        {"primary_colour": "#abc", "title": "  Carte   MILDA ", "logo": False,
         "show_fields": ["nets", "nets", "sex"]},
        "mild",
    )

    assert cleaned == {"primary_colour": "#AABBCC", "title": "Carte MILDA", "logo": False,
                       "show_fields": ["nets", "sex"]}


def test_unknown_template_raises_card_render_error():
    with pytest.raises(CardRenderError, match="nope"):
        renderer(campaign(template_id="nope"))


def test_broken_stored_options_raise_card_render_error():
    with pytest.raises(CardRenderError, match="primary_colour"):
        renderer(campaign(template_options={"primary_colour": "red; } body { color: red"}))


def test_a_qr_that_is_not_a_square_of_modules_raises_card_render_error_naming_the_cards():
    with pytest.raises(CardRenderError, match="DKR-VAC-BROKEN01"):
        renderer().render_fronts([card(code="DKR-VAC-BROKEN01", qr=((1, 0), (1,)))])


def test_card_without_a_code_raises_card_render_error():
    data = card()
    del data["code"]

    with pytest.raises(CardRenderError, match="cannot fill the card template"):
        renderer().render_fronts([data])


def test_other_weasyprint_documents_keep_their_margin_boxes():
    renderer()  # importing and using the card renderer must not change other documents
    css = weasyprint.CSS(
        string='@page { size: A6; margin: 2cm; @top-center { content: "Header" } }'
    )

    pdf = weasyprint.HTML(string="<p>Body</p>").write_pdf(stylesheets=[css])

    assert "Header" in page_text(pdf)


def test_with_backs_the_chunk_pdf_has_front_then_back_of_each_card():
    cards = [card(code=f"DKR-VAC-AAAA{n:04d}", first_name=f"Awa{n}") for n in range(3)]

    pdf, pngs = renderer().render_fronts(cards, with_backs=True)

    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) == 6 and len(pngs) == 3
    back_text = page_text(pdf, 1)
    for n in range(3):
        assert f"DKR-VAC-AAAA{n:04d}" in page_text(pdf, 2 * n)
        assert page_text(pdf, 2 * n + 1) == back_text
    assert "DKR-VAC" not in back_text


@pytest.mark.slow
def test_with_backs_the_pngs_are_the_fronts():
    cards = [card(code=f"DKR-VAC-AAAA{n:04d}") for n in range(2)]
    _, fronts = renderer().render_fronts(cards)
    _, with_backs = renderer().render_fronts(cards, with_backs=True)
    assert fronts == with_backs


def test_a_card_looks_the_same_alone_as_among_cards_that_share_none_of_its_values():
    alone = card()
    other = card(code="DKR-VAC-BBBB0001", date_of_birth=datetime.date(2020, 1, 2), sex="M",
                 mpi_id="MPI-2", attributes={"vaccine": "BCG", "doses": 1},
                 issued_on=datetime.date(2025, 4, 1), expires_on=datetime.date(2027, 4, 1))
    r = renderer()

    _, (png_alone,) = r.render_fronts([alone])
    _, (png_in_chunk, _) = r.render_fronts([alone, other])

    assert png_alone == png_in_chunk


def test_values_every_card_shares_are_printed_on_each_card():
    cards = [card(code=f"DKR-VAC-AAAA{n:04d}", attributes={"vaccine": "Penta 3", "doses": n + 1})
             for n in range(3)]

    pdf, _ = renderer().render_fronts(cards)

    for n in range(3):
        lines = page_text(pdf, n).splitlines()
        assert {"Penta 3", "01/03/2025", str(n + 1), f"DKR-VAC-AAAA{n:04d}"} <= set(lines)


def test_qr_in_the_print_pdf_decodes_to_the_url():
    pdf, _ = renderer().render_fronts([card()], with_backs=True)

    page = pdfium.PdfDocument(pdf)[0].render(scale=300 / 72).to_pil()
    assert [result.text for result in zxingcpp.read_barcodes(page)] == [URL]
