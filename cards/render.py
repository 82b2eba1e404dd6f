"""Cards rendered for throughput: HTML -> one WeasyPrint PDF per chunk -> one PNG per card.

What docs/rendering.md records shapes this module: one FontConfiguration
and one parsed stylesheet per renderer (a worker builds one per job); the back side laid
out once, since it carries no per-card data; absolutely positioned blocks; an image cache
pre-warmed with the logo and icon; pages rasterised by pdfium at an exact pixel size and
quantised to one palette built per renderer.

WeasyPrint lays out only what differs from card to card; the PDF finisher
(`_CardPdfFinisher`) assembles the rest:
- the front's static art (band, title, logo, icon, labels) and the values every card of
  the chunk shares (issue date, the campaign's vaccine...) are the chunk document's first
  page, which becomes a form XObject drawn beneath every card's own page. Rows are
  therefore the same on every card of a campaign; a missing value prints as a dash;
- each card's QR is a 1-bit image drawn by the finisher from segno's modules, never an
  image WeasyPrint would decode, lay out and re-encode;
- pdfium rasterises the art once per chunk and each front over a copy of it.
Together that is about half of the per-card work of laying every front out whole.

Card data are plain dicts: {"code", "first_name", "last_name", "date_of_birth" (date),
"sex", "mpi_id", "attributes" (dict), "issued_on" (date), "expires_on" (date | None),
"qr" (the QR's module matrix, cards.qr.qr_matrix)}.
"""

import base64
import datetime
import html
import io
import logging
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from string import Template
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pydyf
import pypdfium2 as pdfium
import weasyprint.layout
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher

from campaigns.logos import open_stored
from cards import raster, studio
from cards.card_text import (
    FONT_BOLD,
    FONT_DIR,
    FONT_REGULAR,
    TextFitter,
    format_date,
)
from cards.qr import qr_matrix
from cards.validity import add_months

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates" / "cards"
PREVIEW_DPI = 200
MISSING_VALUE = "—"

# WeasyPrint logs a progress line per page at INFO: thousands of lines per job in the
# worker logs, and measurable time. Its warnings and errors still come through.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


_rendering_cards = threading.local()
_weasyprint_margin_boxes = weasyprint.layout.make_margin_boxes


def _margin_boxes(context, page, state):
    # Cards declare no @page margin boxes, yet WeasyPrint 70 builds sixteen empty ones for
    # every page: ~1 ms of the ~9 a card front costs (Kozea/WeasyPrint#578). Skipped while
    # a card document is laid out; any other document keeps WeasyPrint's behaviour.
    if getattr(_rendering_cards, "active", False):
        return ()
    return _weasyprint_margin_boxes(context, page, state)


weasyprint.layout.make_margin_boxes = _margin_boxes


# Where the chunk's art takes the values that every card of the chunk shares.
_SHARED_VALUES = "<!--shared values-->"


class CardRenderError(Exception):
    """A card could not be rendered; the message says what and, where known, which card."""


class PreviewBusy(CardRenderError):
    """Other previews kept the renderer longer than CARD_PREVIEW_WAIT_SECONDS: try again."""

    retry_after = 5


class _LocalOnlyFetcher(URLFetcher):
    """Cards never depend on the network or on files outside the bundled fonts."""

    def fetch(self, url, headers=None):
        scheme = url.split(":", 1)[0].lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            path = Path(url2pathname(urlsplit(url).path)).resolve()
            if path.is_relative_to(FONT_DIR):
                return super().fetch(url, headers)
        raise FatalURLFetchingError(f"a card may not load {url[:80]!r}")


class _ErrorCollector(logging.Handler):
    """WeasyPrint logs (rather than raises) what it could not load; we want it raised."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def data_uri(mime, data):
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def logo_png(program, colour):
    """The program's logo as a PNG at most 256 px wide, or a white disc with its initials."""
    if program.logo:
        with program.logo.open("rb") as handle:
            # A file stored before the logo rules is still sized up before it is decoded.
            image = open_stored(handle)
        image = image.convert("RGBA")
        image.thumbnail((256, 256))
    else:
        size = 192
        image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
        draw = ImageDraw.Draw(image)
        draw.ellipse((4, 4, size - 4, size - 4), fill="white")
        words = [word for word in program.name.split() if word[:1].isalnum()]
        initials = "".join(word[0] for word in words[:2]).upper() or "?"
        font = ImageFont.truetype(str(FONT_BOLD), 80 if len(initials) < 2 else 68)
        draw.text((size / 2, size / 2), initials, fill=colour, font=font, anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _escape(value):
    return html.escape(str(value), quote=False)


def _load_template(name):
    try:
        return Template((TEMPLATE_DIR / name).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CardRenderError(f"Card template file {name} cannot be read: {exc}") from exc


def _page_to_form(pdf, page, name):
    """Turn a laid-out page into a form XObject `/name` of the shared resources."""
    stream = pdf.objects[int(page["Contents"].split()[0])]
    resources = pdf.objects[int(page["Resources"].split()[0])]
    if not isinstance(stream, pydyf.Stream) or "XObject" not in resources:
        raise CardRenderError("Unexpected PDF structure from WeasyPrint: cannot share card art.")
    stream.extra.update({
        "Type": "/XObject",
        "Subtype": "/Form",
        "BBox": page["MediaBox"],
        "Resources": page["Resources"],
    })
    resources["XObject"][name] = stream.reference
    draw = pydyf.Stream([f"/{name} Do".encode()])
    pdf.add_object(draw)
    return draw


# Where the front's QR is drawn (mm from the card's top left corner; a square). The card
# template leaves that box empty and the PDF finisher draws the QR there as a 1-bit image:
# WeasyPrint would decode, lay out and re-encode one image per card (~1.3 ms a card).
QR_LEFT_MM, QR_TOP_MM, QR_SIZE_MM = 58.6, 14, 24
PT_PER_MM = 72 / 25.4


def qr_image(matrix):
    """A QR module matrix as a PDF image: one bit a module, 0 = dark, rows padded to bytes."""
    size = len(matrix)
    if not size or any(len(row) != size for row in matrix):
        raise ValueError("a QR code is a non-empty square of modules")
    stride = (size + 7) // 8
    packed = b"".join(
        int("".join("0" if dark else "1" for dark in row).ljust(8 * stride, "1"), 2)
        .to_bytes(stride, "big")
        for row in matrix
    )
    return pydyf.Stream([packed], extra={
        "Type": "/XObject",
        "Subtype": "/Image",
        "Width": size,
        "Height": size,
        "ColorSpace": "/DeviceGray",
        "BitsPerComponent": 1,
        # Modules stay sharp squares whatever the scale.
        "Interpolate": "false",
    })


def _draw_qr(pdf, page, resources, image, name):
    """Draw `image` in the QR box of `page`, named `name` in the shared `resources`."""
    pdf.add_object(image)
    resources["XObject"][name] = image.reference
    height_pt = float(page["MediaBox"][3])
    size = QR_SIZE_MM * PT_PER_MM
    x, y = QR_LEFT_MM * PT_PER_MM, height_pt - (QR_TOP_MM + QR_SIZE_MM) * PT_PER_MM
    # First on the page's own stream, so it is drawn in the page's default coordinates.
    stream = pdf.objects[int(page["Contents"].split()[0])]
    stream.stream.insert(0, f"q {size:.4f} 0 0 {size:.4f} {x:.4f} {y:.4f} cm /{name} Do Q")


class _CardPdfFinisher:
    """WeasyPrint finisher for a card document laid out as [art, (back,) front, front...]:

    - the first page (the static art) becomes a form XObject drawn first on every front,
      then leaves the page tree;
    - with `with_backs`, the second page (the back, the same on every card) becomes a form
      XObject too, and after each front comes a one-line page that draws it: the print PDF
      gets front, back, front, back... for one back laid out per chunk;
    - each front gets its card's QR image (`qr_matrices`, in card order);
    - `classic`: the streams are compressed although `uncompressed_pdf` was asked for, which
      WeasyPrint needs to write a classic file (xref table, no object streams).

    WeasyPrint gives every page of a document one shared resources dictionary, so the
    art's fonts and images resolve from any page. Pinned WeasyPrint (70): a change in
    that structure fails loudly here and in tests/test_card_rendering.py."""

    def __init__(self, qr_matrices, *, with_backs=False, classic=False):
        self.qr_images = [qr_image(matrix) for matrix in qr_matrices]
        self.with_backs = with_backs
        self.classic = classic

    def __call__(self, document, pdf):
        kids = pdf.pages["Kids"]
        numbers = [kids[position] for position in range(0, len(kids), 3)]
        leading = 2 if self.with_backs else 1
        fronts = numbers[leading:]
        if len(fronts) != len(self.qr_images):
            raise CardRenderError(
                f"The card template produced {len(numbers) - leading} fronts for "
                f"{len(self.qr_images)} cards: its content overflows the card."
            )
        draw_art = _page_to_form(pdf, pdf.objects[numbers[0]], "CardArt")
        if self.with_backs:
            draw_back = _page_to_form(pdf, pdf.objects[numbers[1]], "CardBack")
        # One resources dictionary for every page of the document (see above).
        resources = pdf.objects[int(pdf.objects[numbers[0]]["Resources"].split()[0])]
        leaves = []
        for index, (number, image) in enumerate(zip(fronts, self.qr_images, strict=True)):
            front = pdf.objects[number]
            _draw_qr(pdf, front, resources, image, f"QR{index}")
            front["Contents"] = pydyf.Array([draw_art.reference, front["Contents"]])
            leaves.extend([number, 0, "R"])
            if self.with_backs:
                back = pydyf.Dictionary({
                    "Type": "/Page",
                    "Parent": pdf.pages.reference,
                    "MediaBox": front["MediaBox"],
                    "Resources": front["Resources"],
                    "Contents": draw_back.reference,
                })
                pdf.add_object(back)
                leaves.extend([back.number, 0, "R"])
        kids[:] = leaves
        pdf.pages["Count"] = len(leaves) // 3
        if self.classic:
            # Pages no more (their content lives on as forms): not written. pydyf writes
            # free objects right only in a classic file.
            for number in numbers[:leading]:
                pdf.objects[number].free = "f"
            for obj in pdf.objects:
                # Images come encoded already (their /Filter is set): leave them as they are.
                if isinstance(obj, pydyf.Stream) and "Filter" not in obj.extra:
                    obj.compress = True


@contextmanager
def _filling(card):
    """Bad card data raise CardRenderError naming the card."""
    try:
        yield
    except (KeyError, ValueError, AttributeError, TypeError) as exc:
        raise CardRenderError(
            f"Card {card.get('code', '?')}: cannot fill the card template ({exc!r})"
        ) from exc


class CardRenderer:
    """Renders one campaign's cards at one resolution; build it once per worker per job."""

    NAME_WIDTH_MM = 52
    NAME_MAX_PT, NAME_MIN_PT, NAME_TWO_LINE_PT = 10.5, 7.5, 6.5
    LABEL_WIDTH_MM, LABEL_PT = 21.5, 5.5
    VALUE_WIDTH_MM, VALUE_PT = 30, 6.5
    ROW_MM = 3.4  # the line height of the labels and values columns
    TITLE_PT, TITLE_MIN_PT, PROGRAM_PT = 8.5, 6.5, 5.5

    def __init__(self, *, campaign, program=None, dpi=300, include_mpi_id=False,
                 template_options=None):
        program = program or campaign.program
        template_id = studio.template_for_campaign(campaign)
        options = campaign.template_options if template_options is None else template_options
        try:
            self.design = studio.card_design(
                template_id=template_id, language=campaign.language, options=options
            )
        except ValidationError as exc:
            raise CardRenderError(
                f"Campaign {campaign.prefix}: card template {template_id!r} cannot be used: "
                f"{'; '.join(exc.messages)}"
            ) from exc
        self.dpi = int(dpi)
        self.pixel_size = raster.card_pixel_size(self.dpi)
        self.timings = {"layout_pdf": 0.0, "raster": 0.0, "png": 0.0, "cards": 0}
        self._fit = TextFitter()
        self._row_keys = printed_rows(self.design, campaign, include_mpi_id)
        self._fetcher = _LocalOnlyFetcher(allowed_protocols={"data", "file"})
        self._font_config = FontConfiguration()
        self._css = self._stylesheet(program)
        self._front_art = self._front_art_html(program)
        self._front = _load_template("card_front.html")
        # The back is the same on every card: laid out, rasterised and encoded once. It
        # also loads the logo and icon into the cache every chunk starts from.
        self._image_cache = {}
        self._back = self._back_html(program)
        self._back_pdf = self._write_pdf(
            [self._back], what="the back side", cache=self._image_cache
        )
        back_image = self._single_page(self._back_pdf)
        sample = self._write_cards_pdf(
            [sample_card(campaign, campaign_values=self.design.values)], what="the sample card"
        )
        sample_front_image = self._single_page(sample)
        self._palette = raster.build_palette(sample_front_image, back_image)
        self._back_image, self._sample_front_image = back_image, sample_front_image
        self._back_png = raster.encode_png(back_image, self._palette)

    # -- building the HTML ---------------------------------------------------------------

    def _stylesheet(self, program):
        design = self.design
        title_left = 12 if design.logo else 3.5
        self._title_width_mm = 75 - title_left
        css_text = _load_template("card.css").safe_substitute(
            font_regular=FONT_REGULAR.as_uri(),
            font_bold=FONT_BOLD.as_uri(),
            primary=design.primary_colour,
            accent=design.accent_colour,
            band_text=design.band_text_colour,
            ink=design.ink_colour,
            logo_url=self._logo_data_uri(program) if design.logo else "",
            icon_url=data_uri(
                "image/svg+xml", design.template.icon_svg(design.band_text_colour).encode()
            ),
            title_left=f"{title_left}mm",
            title_width=f"{self._title_width_mm}mm",
            row_height=f"{self.ROW_MM}mm",
            skip_rows="\n".join(
                f".skip{n} {{ margin-top: {n * self.ROW_MM:.2f}mm; }}"
                for n in range(1, len(self._row_keys))
            ),
        )
        try:
            return CSS(
                string=css_text, base_url=str(TEMPLATE_DIR), url_fetcher=self._fetcher,
                font_config=self._font_config,
            )
        except (Exception, FatalURLFetchingError) as exc:
            raise CardRenderError(f"The card stylesheet is broken: {exc}") from exc

    def _band(self, title, subtitle):
        """The band's title (shrunk to fit) and subtitle (cut to fit), as HTML."""
        size, title = self._fit.shrink(
            title, self._title_width_mm, self.TITLE_PT, self.TITLE_MIN_PT, bold=True
        )
        return {
            "logo": '<div class="logo"></div>' if self.design.logo else "",
            "title": f'<div class="title" style="font-size:{size}pt">{_escape(title)}</div>',
            "subtitle": _escape(self._fit.cut(subtitle, self._title_width_mm, self.PROGRAM_PT)),
        }

    def _front_art_html(self, program):
        band = self._band(self.design.title, program.name)
        labels = "".join(
            f"<div>{_escape(self._fit.cut(label, self.LABEL_WIDTH_MM, self.LABEL_PT))}</div>"
            for label in map(self.design.label, self._row_keys)
        )
        host = settings.PUBLIC_BASE_URL.split("://", 1)[-1]
        return _load_template("card_front_art.html").substitute(
            logo=band["logo"], title=band["title"], program=band["subtitle"], labels=labels,
            verify_host=_escape(self._fit.cut(f"{host}/v", 31, 4.5)),
            values=_SHARED_VALUES,
        )

    def _back_html(self, program):
        lang = self.design.language
        verify_url = f"{settings.PUBLIC_BASE_URL}/v"
        band = self._band(program.name, self.design.title)
        return _load_template("card_back.html").substitute(
            logo=band["logo"], title=band["title"], subtitle=band["subtitle"],
            purpose=_escape(self.design.template.purpose[lang]),
            how=_escape(studio.BACK_TEXTS["how_to_verify"][lang]),
            verify_at=_escape(studio.BACK_TEXTS["verify_at"][lang]),
            verify_url=_escape(self._fit.cut(verify_url, 77, 8, bold=True)),
            notice=_escape(studio.BACK_TEXTS["notice"][lang]),
        )

    def _values(self, card):
        """The card's value of each row, as printed (cut to fit the column)."""
        return [
            self._fit.cut(value, self.VALUE_WIDTH_MM, self.VALUE_PT)
            for value in self._raw_values(card)
        ]

    def _raw_values(self, card):
        return row_texts(self.design, self._row_keys, card)

    def _name(self, card):
        name = " ".join(
            part for part in (
                " ".join(str(card.get("first_name") or "").split()),
                " ".join(str(card.get("last_name") or "").split()).upper(),
            ) if part
        )
        size, text = self._fit.shrink(
            name, self.NAME_WIDTH_MM, self.NAME_MAX_PT, self.NAME_MIN_PT, bold=True
        )
        if text != name:
            # Too long for one line even small: two lines at a smaller size, cut to fit them
            # (0.85: a line rarely breaks exactly at its end).
            size = self.NAME_TWO_LINE_PT
            text = self._fit.cut(name, self.NAME_WIDTH_MM * 2 * 0.85, size, bold=True)
        return size, text

    @staticmethod
    def _value_rows(values, printed):
        """The values column with only the `printed` rows, each kept in its own row's place:
        the other rows are drawn by the other layer (the chunk's art or the card)."""
        rows, skipped = [], 0
        for value, shown in zip(values, printed, strict=True):
            if not shown:
                skipped += 1
                continue
            rows.append(f'<div class="skip{skipped}">' if skipped else "<div>")
            rows.append(f"{_escape(value)}</div>")
            skipped = 0
        return "".join(rows)

    def _card_sections(self, cards_data):
        """HTML of a card document: the chunk's art, then one front per card.

        A row whose value is the same on every card of the chunk (the issue date, the
        campaign's vaccine, a missing field's dash) is printed with the art, laid out once
        per chunk rather than once per card."""
        values = [self._card_values(card) for card in cards_data]
        shared = [all(row[k] == values[0][k] for row in values) for k in range(len(values[0]))]
        own = [not s for s in shared]
        art = self._front_art.replace(_SHARED_VALUES, self._value_rows(values[0], shared))
        return [art] + [
            self._front_html(card, self._value_rows(row, own))
            for card, row in zip(cards_data, values, strict=True)
        ]

    def _card_values(self, card):
        with _filling(card):
            return self._values(card)

    def _front_html(self, card, values_html):
        with _filling(card):
            size, name = self._name(card)
            return self._front.substitute(
                name_size=size, name=_escape(name), values=values_html,
                code=_escape(card["code"]),
            )

    def _write_cards_pdf(self, cards_data, *, what, with_backs=False, classic=False):
        """PDF of these cards' fronts (and backs): see _CardPdfFinisher."""
        try:
            finisher = _CardPdfFinisher(
                [card["qr"] for card in cards_data], with_backs=with_backs, classic=classic
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise CardRenderError(f"Rendering {what} failed: a card's QR code: {exc!r}") from exc
        sections = self._card_sections(cards_data)
        if with_backs:
            sections.insert(1, self._back)
        return self._write_pdf(sections, what=what, finisher=finisher, classic=classic)

    # -- PDF, raster, PNG ---------------------------------------------------------------

    def _write_pdf(self, sections, *, what, finisher=None, cache=None, classic=False):
        """PDF bytes of the sections. `classic`: a plain xref table and no object streams
        (the finisher compresses each stream), so cards/print_pdf.py can merge chunks by
        copying objects instead of loading every chunk into one document."""
        document_html = (
            '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
            + "".join(sections)
            + "</body></html>"
        )
        collector = _ErrorCollector()
        weasy_logger = logging.getLogger("weasyprint")
        weasy_logger.addHandler(collector)
        if cache is None:
            cache = dict(self._image_cache)
        _rendering_cards.active = True
        try:
            document = HTML(
                string=document_html, base_url=str(TEMPLATE_DIR), url_fetcher=self._fetcher
            ).render(font_config=self._font_config, stylesheets=[self._css], cache=cache)
            pdf = document.write_pdf(finisher=finisher, uncompressed_pdf=classic)
        except CardRenderError:
            raise
        except (Exception, FatalURLFetchingError) as exc:
            raise CardRenderError(f"Rendering {what} failed: {exc}") from exc
        finally:
            _rendering_cards.active = False
            weasy_logger.removeHandler(collector)
        if collector.messages:
            raise CardRenderError(f"Rendering {what} failed: {collector.messages[0]}")
        return pdf

    @staticmethod
    def _open_pdf(pdf_bytes):
        try:
            return pdfium.PdfDocument(pdf_bytes)
        except pdfium.PdfiumError as exc:
            raise CardRenderError(f"The rendered PDF cannot be read: {exc}") from exc

    @staticmethod
    def _check_pages(pdf, expected, what):
        if len(pdf) != expected:
            raise CardRenderError(
                f"The card template produced {len(pdf)} pages for {what}: "
                "its content overflows the card."
            )

    def _single_page(self, pdf_bytes):
        pdf = self._open_pdf(pdf_bytes)
        try:
            self._check_pages(pdf, 1, "one side")
            (image,) = raster.pages(pdf, self.pixel_size)
            return image
        finally:
            pdf.close()

    def _logo_data_uri(self, program):
        try:
            return data_uri("image/png", logo_png(program, self.design.primary_colour))
        except (OSError, ValueError) as exc:
            raise CardRenderError(
                f"The logo of program {program.name!r} cannot be read: {exc}"
            ) from exc

    # -- public interface ---------------------------------------------------------------

    def back_pdf_bytes(self):
        """The back side, one page, the same for every card of the job."""
        return self._back_pdf

    def back_png_bytes(self):
        return self._back_png

    def render_fronts(self, cards_data, *, with_backs=False):
        """(PDF of the chunk, one page per card front, or front then back of each card with
        `with_backs`; [PNG bytes of each card's front, same order])."""
        if not cards_data:
            return b"", []
        started = time.perf_counter()
        sides = 2 if with_backs else 1
        pdf_bytes = self._write_cards_pdf(
            cards_data, with_backs=with_backs, classic=True,
            what=f"cards {cards_data[0].get('code')}…{cards_data[-1].get('code')}",
        )
        tick = time.perf_counter()
        self.timings["layout_pdf"] += tick - started
        pdf = self._open_pdf(pdf_bytes)  # one page per side: the finisher checked the fronts
        pngs = []
        try:
            for image in raster.card_fronts(pdf, self.pixel_size, step=sides):
                rasterised = time.perf_counter()
                pngs.append(raster.encode_png(image, self._palette))
                encoded = time.perf_counter()
                self.timings["raster"] += rasterised - tick
                self.timings["png"] += encoded - rasterised
                tick = encoded
        finally:
            pdf.close()
        self.timings["cards"] += len(cards_data)
        return pdf_bytes, pngs

    def preview_image(self):
        """The sample card's front above the back, as a Pillow image."""
        gap = max(8, self.dpi // 25)
        front, back = self._sample_front_image, self._back_image
        sheet = Image.new(
            "RGB", (front.width + 2 * gap, front.height + back.height + 3 * gap), "#E5E7EB"
        )
        sheet.paste(front, (gap, gap))
        sheet.paste(back, (gap, front.height + 2 * gap))
        return sheet


SAMPLE_PERSON = {
    "first_name": "Aïssatou",
    "last_name": "N'Diaye",
    "date_of_birth": datetime.date(2019, 5, 17),
    "sex": "F",
    "mpi_id": "MPI-100234567",
}


def printed_rows(design, campaign, include_mpi_id):
    """The rows of this campaign's cards, in printing order."""
    show = design.show_fields
    keys = ["date_of_birth"]
    keys += [key for key in ("sex",) if key in show]
    keys += [key for key in design.template.field_keys if key in show]
    keys.append("issued")
    # No expiry row on cards that never expire.
    if "expiry" in show and getattr(campaign, "card_validity_months", None):
        keys.append("expiry")
    if include_mpi_id and "mpi_id" in show:
        keys.append("mpi_id")
    return tuple(keys)


def row_texts(design, row_keys, card):
    """The text of each row of one card, before it is cut to fit; a dash when empty."""
    lang = design.language
    attributes = card.get("attributes") or {}
    fields = {f.key: f for f in design.template.fields}
    texts = []
    for key in row_keys:
        if key == "date_of_birth":
            value = card.get("date_of_birth") and format_date(card["date_of_birth"])
        elif key == "sex":
            value = studio.SEX_VALUES.get(card.get("sex") or "", {}).get(lang)
        elif key == "issued":
            value = card.get("issued_on") and format_date(card["issued_on"])
        elif key == "expiry":
            value = card.get("expires_on") and format_date(card["expires_on"])
        elif key == "mpi_id":
            value = card.get("mpi_id")
        else:
            value = studio.field_text(design, fields[key], attributes)
        texts.append(str(value) if value else MISSING_VALUE)
    return texts


def card_texts(*, campaign, card, include_mpi_id=False):
    """{row key: text} a card of this campaign prints for `card` (a card data dict)."""
    design = studio.card_design(
        template_id=studio.template_for_campaign(campaign), language=campaign.language,
        options=campaign.template_options,
    )
    keys = printed_rows(design, campaign, include_mpi_id)
    return dict(zip(keys, row_texts(design, keys, card), strict=True))


SAMPLE_ISSUED_ON = datetime.date(2025, 1, 15)


def sample_card(campaign, campaign_values=None):
    """A fictional card of this campaign, for previews and for building the palette. Its
    person has no own value for the fields the campaign sets, so the campaign's value shows."""
    template = studio.get_template(studio.template_for_campaign(campaign))
    campaign_values = campaign_values or {}
    code = f"{campaign.prefix or 'DEMO'}-SAMPLE00"
    # A token as long as a real signed one, so the sample QR is as dense as a real one.
    url = f"{settings.PUBLIC_BASE_URL}/v/c/{code}#{'SAMPLE234' * 12}"
    issued = SAMPLE_ISSUED_ON
    return {
        **SAMPLE_PERSON,
        "code": code,
        "attributes": {
            f.key: f.sample for f in template.fields if f.key not in campaign_values
        } if template else {},
        "issued_on": issued,
        # As issued cards: the campaign's validity after the issue date, none without one.
        "expires_on": sample_expiry(issued, getattr(campaign, "card_validity_months", None)),
        "qr": qr_matrix(url),
    }


def sample_expiry(issued, months):
    return add_months(issued, months) if months else None


def render_preview_png(*, campaign, program=None, template_options=None):
    """PNG of a sample card (front above back) with the campaign's template and options,
    or the unsaved `template_options` given. Bad options raise ValidationError naming the
    field; anything else that cannot render raises CardRenderError."""
    if template_options is not None:
        studio.template_options_validate(template_options, studio.template_for_campaign(campaign))
    # Web servers render previews from several threads; Pango, fontconfig and pdfium are not
    # thread-safe (parallel renders crashed the process), so one preview renders at a time.
    # A render cannot be interrupted, but its inputs are bounded (the logo's size is checked
    # before decoding, campaigns/logos.py) and a request waits for its turn only so long:
    # then it answers "busy, try again" instead of hanging.
    wait = getattr(settings, "CARD_PREVIEW_WAIT_SECONDS", PREVIEW_WAIT_SECONDS)
    if not _PREVIEW_LOCK.acquire(timeout=wait):
        raise PreviewBusy(
            _("The card preview is busy; try again in a few seconds (waited %(seconds)s s).")
            % {"seconds": f"{wait:g}"}
        )
    try:
        renderer = CardRenderer(
            campaign=campaign, program=program, dpi=PREVIEW_DPI, include_mpi_id=True,
            template_options=template_options,
        )
        buffer = io.BytesIO()
        renderer.preview_image().save(buffer, "PNG", compress_level=6)
    finally:
        _PREVIEW_LOCK.release()
    return buffer.getvalue()


_PREVIEW_LOCK = threading.Lock()
PREVIEW_WAIT_SECONDS = 10
