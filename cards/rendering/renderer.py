"""Cards rendered for throughput: HTML -> one WeasyPrint PDF per chunk -> one PNG per card.

What docs/rendering.md records shapes this module: one FontConfiguration
and one parsed stylesheet per renderer (a worker builds one per job); the back side laid
out once, since it carries no per-card data; absolutely positioned blocks; an image cache
pre-warmed with the logo and icon; pages rasterised by pdfium at an exact pixel size and
quantised to one palette built per renderer.

WeasyPrint lays out only what differs from card to card; the PDF finisher
(`CardPdfFinisher`, pdf_finisher.py) assembles the rest:
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

import logging
import time
from contextlib import contextmanager
from string import Template

import pypdfium2 as pdfium
from django.conf import settings
from django.core.exceptions import ValidationError
from PIL import Image
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError

from campaigns import studio, studio_catalogue
from cards import raster
from cards.card_text import FONT_BOLD, FONT_REGULAR, TextFitter
from cards.rendering.errors import CardRenderError
from cards.rendering.layers import ChunkLayers, FrontStyle, FrontText, LayersUnusable
from cards.rendering.logo import data_uri, logo_png
from cards.rendering.pdf_finisher import CardPdfFinisher
from cards.rendering.rows import printed_rows, row_texts
from cards.rendering.sample import sample_card
from cards.rendering.templates import TEMPLATE_DIR, escape, load_template
from cards.rendering.typesetting import shaper
from cards.rendering.weasyprint_setup import (
    LAYER_CLASS,
    ErrorCollector,
    LocalOnlyFetcher,
    rendering_cards,
)

logger = logging.getLogger(__name__)

# Where the chunk's art takes the values that every card of the chunk shares.
_SHARED_VALUES = "<!--shared values-->"


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
    NAME_MAX_PT, NAME_MIN_PT = 10.5, 7.5
    # A name too long for one line: two lines at 6.5 pt, else three at 5.5 pt (the .name box
    # is 7 mm high, 3 x 5.5 pt x line-height 1.15 = 19 pt < 19.8 pt), else three cut with "…".
    NAME_LINES_PT = ((2, 6.5), (3, 5.5))
    LABEL_WIDTH_MM, LABEL_PT = 21.5, 5.5
    VALUE_WIDTH_MM, VALUE_PT = 30, 6.5
    ROW_MM = 3.4  # the line height of the labels and values columns
    NAME_LINE_HEIGHT, CODE_PT = 1.15, 6.5
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
        # Which path lays the fronts out, how many chunks fell back to a page per card, how
        # many fronts were typeset rather than laid out (layers.py).
        self.reference = settings.CARD_LAYOUT == "reference"
        self.fallbacks = self.typeset = 0
        self._front_style = FrontStyle(
            name_line_height=self.NAME_LINE_HEIGHT, name_width_mm=self.NAME_WIDTH_MM,
            value_pt=self.VALUE_PT, code_pt=self.CODE_PT,
        )
        self._fit = TextFitter()
        self._row_keys = printed_rows(self.design, campaign, include_mpi_id)
        self._fetcher = LocalOnlyFetcher(allowed_protocols={"data", "file"})
        self._font_config = FontConfiguration()
        self._css = self._stylesheet(program)
        self._front_art = self._front_art_html(program)
        self._front = Template(load_template("card_front.html").template.strip())
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
        css_text = load_template("card.css").safe_substitute(
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
            name_line_height=self.NAME_LINE_HEIGHT,
            code_size=f"{self.CODE_PT}pt",
            value_size=f"{self.VALUE_PT}pt",
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
            "title": f'<div class="title" style="font-size:{size}pt">{escape(title)}</div>',
            "subtitle": escape(self._fit.cut(subtitle, self._title_width_mm, self.PROGRAM_PT)),
        }

    def _front_art_html(self, program):
        band = self._band(self.design.title, program.name)
        labels = "".join(
            f"<div>{escape(self._fit.cut(label, self.LABEL_WIDTH_MM, self.LABEL_PT))}</div>"
            for label in map(self.design.label, self._row_keys)
        )
        host = settings.PUBLIC_BASE_URL.split("://", 1)[-1]
        return load_template("card_front_art.html").substitute(
            logo=band["logo"], title=band["title"], program=band["subtitle"], labels=labels,
            verify_host=escape(self._fit.cut(f"{host}/v", 31, 4.5)),
            values=_SHARED_VALUES,
        )

    def _back_html(self, program):
        lang = self.design.language
        verify_url = f"{settings.PUBLIC_BASE_URL}/v"
        band = self._band(program.name, self.design.title)
        return load_template("card_back.html").substitute(
            logo=band["logo"], title=band["title"], subtitle=band["subtitle"],
            purpose=escape(self.design.template.purpose[lang]),
            how=escape(studio_catalogue.BACK_TEXTS["how_to_verify"][lang]),
            verify_at=escape(studio_catalogue.BACK_TEXTS["verify_at"][lang]),
            verify_url=escape(self._fit.cut(verify_url, 77, 8, bold=True)),
            notice=escape(studio_catalogue.BACK_TEXTS["notice"][lang]),
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
            # Too long for one line even small: packed on more lines at smaller sizes, whole
            # when they hold it, else the last packing's last line cut with an ellipsis.
            for max_lines, size in self.NAME_LINES_PT:
                text, whole = self._fit.wrap(
                    name, self.NAME_WIDTH_MM, size, max_lines, bold=True
                )
                if whole:
                    break
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
            rows.append(f"{escape(value)}</div>")
            skipped = 0
        return "".join(rows)

    def _chunk_fronts(self, cards_data):
        """(the chunk's art HTML, [(FrontText, the front's HTML)] per card).

        A row whose value is the same on every card of the chunk (the issue date, the
        campaign's vaccine, a missing field's dash) is printed with the art, laid out once
        per chunk rather than once per card; each front prints the other rows."""
        values = [self._card_values(card) for card in cards_data]
        shared = [all(row[k] == values[0][k] for row in values) for k in range(len(values[0]))]
        own = [not s for s in shared]
        art = self._front_art.replace(_SHARED_VALUES, self._value_rows(values[0], shared))
        fronts = []
        for card, row in zip(cards_data, values, strict=True):
            with _filling(card):
                size, name = self._name(card)
                text = FrontText(
                    name=name, name_pt=size, code=card["code"],
                    values=tuple(value for value, mine in zip(row, own, strict=True) if mine),
                )
                fronts.append((text, self._front.substitute(
                    name_size=size, name=escape(name), values=self._value_rows(row, own),
                    code=escape(card["code"]),
                )))
        return art, fronts

    def _card_values(self, card):
        with _filling(card):
            return self._values(card)

    def _write_cards_pdf(self, cards_data, *, what, with_backs=False, classic=False):
        """PDF of these cards' fronts (and backs): see CardPdfFinisher and layers.py. The
        fronts are layers of one page, most of them typeset, unless `reference`
        (settings.CARD_LAYOUT) or the layers came out other than expected: then each front
        is a page of its own, and the fallback is logged."""
        try:
            finisher = CardPdfFinisher(
                [card["qr"] for card in cards_data], with_backs=with_backs, classic=classic
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise CardRenderError(f"Rendering {what} failed: a card's QR code: {exc!r}") from exc
        art, fronts = self._chunk_fronts(cards_data)
        back = [self._back] if with_backs else []
        if not self.reference:
            layers = ChunkLayers(
                [text for text, _ in fronts], style=self._front_style,
                regular=shaper(FONT_REGULAR), bold=shaper(FONT_BOLD),
            )
            page = '<section class="layers">' + "".join(
                f'<div class="{LAYER_CLASS}">{fronts[index][1]}</div>'
                for index in layers.laid_out
            ) + "</section>"
            finisher.layers = layers
            try:
                pdf = self._write_pdf([art, *back, page], what=what, finisher=finisher,
                                      classic=classic)
            except LayersUnusable as exc:
                self.fallbacks += 1
                logger.warning("Cards %s laid out one page per card: %s", what, exc)
            else:
                self.typeset += len(fronts) - len(layers.laid_out)
                return pdf
            finisher.layers = None
        sections = [art, *back] + [f"<section>{html}</section>" for _, html in fronts]
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
        collector = ErrorCollector()
        weasy_logger = logging.getLogger("weasyprint")
        weasy_logger.addHandler(collector)
        if cache is None:
            cache = dict(self._image_cache)
        rendering_cards.active = True
        # The finisher's layers, recorded as WeasyPrint draws them (weasyprint_setup.py).
        rendering_cards.layers = finisher.layers if finisher is not None else None
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
            rendering_cards.active = False
            rendering_cards.layers = None
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
            for front in raster.card_fronts(pdf, self.pixel_size, step=sides):
                rasterised = time.perf_counter()
                pngs.append(front.png(self._palette))
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
