"""Cards rendered for throughput: HTML -> one WeasyPrint PDF per chunk -> one PNG per card.

What shared/reference/rendering.md measured shapes this module: one FontConfiguration
and one parsed stylesheet per renderer (a worker builds one per job); the back side laid
out once, since it carries no per-card data; the QR as a scale-1 PNG data URI drawn
`pixelated`; absolutely positioned blocks; an image cache pre-warmed with the logo and
icon and copied per chunk (a shared one grows with every QR); pages rasterised by pdfium
at an exact pixel size and quantised to one palette built per renderer.

The front's static art (band, title, logo, icon, labels) is laid out once per chunk, not
once per card: it is the chunk document's first page, which a PDF finisher turns into a
form XObject drawn beneath every card's own page (see `_share_card_art`). That halves the
WeasyPrint work per card. Rows are therefore the same on every card of a campaign; a
missing value prints as a dash.

Card data are plain dicts: {"code", "first_name", "last_name", "date_of_birth" (date),
"sex", "mpi_id", "attributes" (dict), "issued_on" (date), "expires_on" (date | None),
"qr_data_uri"}.
"""

import base64
import datetime
import html
import io
import logging
import threading
import time
from pathlib import Path
from string import Template
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pydyf
import pypdfium2 as pdfium
import weasyprint.layout
from django.conf import settings
from django.core.exceptions import ValidationError
from PIL import Image, ImageDraw, ImageFont
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher

from cards import raster, studio
from cards.card_text import (
    FONT_BOLD,
    FONT_DIR,
    FONT_REGULAR,
    TextFitter,
    attribute_text,
    format_date,
)
from cards.qr import qr_png_data_uri

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


class CardRenderError(Exception):
    """A card could not be rendered; the message says what and, where known, which card."""


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
            image = Image.open(handle)
            image.load()
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


def _share_card_art(document, pdf):
    """WeasyPrint finisher: the first page (the static art) becomes a form XObject drawn
    first on every other page, then leaves the page tree.

    WeasyPrint gives every page of a document one shared resources dictionary, so the
    art's fonts and images resolve from any page. Pinned WeasyPrint (70): a change in
    that structure fails loudly here and in tests/test_card_rendering.py."""
    kids = pdf.pages["Kids"]
    draw_art = _page_to_form(pdf, pdf.objects[kids[0]], "CardArt")
    for position in range(3, len(kids), 3):
        page = pdf.objects[kids[position]]
        page["Contents"] = pydyf.Array([draw_art.reference, page["Contents"]])
    del kids[:3]
    pdf.pages["Count"] -= 1


def _share_card_art_and_back(document, pdf):
    """As _share_card_art, and the second page (the back, the same on every card) becomes
    a form XObject too: after each card's front comes a one-line page that draws it. The
    print PDF gets front, back, front, back... for one back laid out per chunk."""
    kids = pdf.pages["Kids"]
    numbers = [kids[position] for position in range(0, len(kids), 3)]
    draw_art = _page_to_form(pdf, pdf.objects[numbers[0]], "CardArt")
    draw_back = _page_to_form(pdf, pdf.objects[numbers[1]], "CardBack")
    leaves = []
    for number in numbers[2:]:
        front = pdf.objects[number]
        front["Contents"] = pydyf.Array([draw_art.reference, front["Contents"]])
        back = pydyf.Dictionary({
            "Type": "/Page",
            "Parent": pdf.pages.reference,
            "MediaBox": front["MediaBox"],
            "Resources": front["Resources"],
            "Contents": draw_back.reference,
        })
        pdf.add_object(back)
        leaves.extend([number, 0, "R", back.number, 0, "R"])
    kids[:] = leaves
    pdf.pages["Count"] = len(leaves) // 3


class CardRenderer:
    """Renders one campaign's cards at one resolution; build it once per worker per job."""

    NAME_WIDTH_MM = 52
    NAME_MAX_PT, NAME_MIN_PT, NAME_TWO_LINE_PT = 10.5, 7.5, 6.5
    LABEL_WIDTH_MM, LABEL_PT = 21.5, 5.5
    VALUE_WIDTH_MM, VALUE_PT = 30, 6.5
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
        self._row_keys = self._rows_printed(campaign, include_mpi_id)
        self._fields = {f.key: f for f in self.design.template.fields}
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
        sample = self._write_pdf(
            [self._front_art, self._front_html(sample_card(campaign))],
            what="the sample card", finisher=_share_card_art,
        )
        sample_front_image = self._single_page(sample)
        self._palette = raster.build_palette(sample_front_image, back_image)
        self._back_image, self._sample_front_image = back_image, sample_front_image
        self._back_png = raster.encode_png(back_image, self._palette)

    # -- building the HTML ---------------------------------------------------------------

    def _rows_printed(self, campaign, include_mpi_id):
        """The rows of this campaign's cards, in printing order."""
        show = self.design.show_fields
        keys = ["date_of_birth"]
        keys += [key for key in ("sex",) if key in show]
        keys += [key for key in self.design.template.field_keys if key in show]
        keys.append("issued")
        # No expiry row on cards that never expire.
        if "expiry" in show and getattr(campaign, "card_validity_months", None):
            keys.append("expiry")
        if include_mpi_id and "mpi_id" in show:
            keys.append("mpi_id")
        return tuple(keys)

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
        lang = self.design.language
        attributes = card.get("attributes") or {}
        fields = self._fields
        for key in self._row_keys:
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
                value = attribute_text(fields[key], attributes.get(key))
            yield str(value) if value else MISSING_VALUE

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

    def _front_html(self, card):
        try:
            size, name = self._name(card)
            values = "".join(
                f"<div>{_escape(self._fit.cut(value, self.VALUE_WIDTH_MM, self.VALUE_PT))}</div>"
                for value in self._values(card)
            )
            return self._front.substitute(
                name_size=size,
                name=_escape(name),
                values=values,
                qr=html.escape(card["qr_data_uri"], quote=True),
                code=_escape(card["code"]),
            )
        except (KeyError, ValueError, AttributeError, TypeError) as exc:
            raise CardRenderError(
                f"Card {card.get('code', '?')}: cannot fill the card template ({exc!r})"
            ) from exc

    # -- PDF, raster, PNG ---------------------------------------------------------------

    def _write_pdf(self, sections, *, what, finisher=None, cache=None):
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
            pdf = document.write_pdf(finisher=finisher)
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
        pdf_bytes = self._write_pdf(
            [self._front_art, *([self._back] if with_backs else []),
             *(self._front_html(card) for card in cards_data)],
            what=f"cards {cards_data[0].get('code')}…{cards_data[-1].get('code')}",
            finisher=_share_card_art_and_back if with_backs else _share_card_art,
        )
        tick = time.perf_counter()
        self.timings["layout_pdf"] += tick - started
        pdf = self._open_pdf(pdf_bytes)
        pngs = []
        try:
            self._check_pages(pdf, sides * len(cards_data), f"{len(cards_data)} cards")
            for image in raster.pages(pdf, self.pixel_size, step=sides):
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


def sample_card(campaign):
    """A fictional card of this campaign, for previews and for building the palette."""
    template = studio.get_template(studio.template_for_campaign(campaign))
    code = f"{campaign.prefix or 'DEMO'}-SAMPLE00"
    # A token as long as a real signed one, so the sample QR is as dense as a real one.
    url = f"{settings.PUBLIC_BASE_URL}/v/c/{code}#{'SAMPLE234' * 12}"
    issued = datetime.date(2025, 1, 15)
    return {
        **SAMPLE_PERSON,
        "code": code,
        "attributes": {f.key: f.sample for f in template.fields} if template else {},
        "issued_on": issued,
        "expires_on": issued.replace(year=issued.year + 2),
        "qr_data_uri": qr_png_data_uri(url),
    }


def render_preview_png(*, campaign, program=None, template_options=None):
    """PNG of a sample card (front above back) with the campaign's template and options,
    or the unsaved `template_options` given. Bad options raise ValidationError naming the
    field; anything else that cannot render raises CardRenderError."""
    if template_options is not None:
        studio.template_options_validate(template_options, studio.template_for_campaign(campaign))
    # Web servers render previews from several threads; Pango, fontconfig and pdfium are not
    # thread-safe (parallel renders crashed the process), so one preview renders at a time.
    with _PREVIEW_LOCK:
        renderer = CardRenderer(
            campaign=campaign, program=program, dpi=PREVIEW_DPI, include_mpi_id=True,
            template_options=template_options,
        )
        buffer = io.BytesIO()
        renderer.preview_image().save(buffer, "PNG", compress_level=6)
    return buffer.getvalue()


_PREVIEW_LOCK = threading.Lock()
