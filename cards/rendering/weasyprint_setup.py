"""How cards use WeasyPrint: quiet progress logs, no margin boxes while a card document is
laid out (patched at import), no network or file outside the bundled fonts, and the errors
it only logs collected so they can be raised."""

import logging
import threading
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import weasyprint.draw
import weasyprint.layout
import weasyprint.pdf
from weasyprint.urls import FatalURLFetchingError, URLFetcher

from cards.card_text import FONT_DIR

# WeasyPrint logs a progress line per page at INFO: thousands of lines per job in the
# worker logs, and measurable time. Its warnings and errors still come through.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


# `active` while this thread lays out a card document (cards/rendering/renderer.py).
rendering_cards = threading.local()
_weasyprint_margin_boxes = weasyprint.layout.make_margin_boxes


def _margin_boxes(context, page, state):
    # Cards declare no @page margin boxes, yet WeasyPrint 70 builds sixteen empty ones for
    # every page: ~1 ms of the ~9 a card front costs (Kozea/WeasyPrint#578). Skipped while
    # a card document is laid out; any other document keeps WeasyPrint's behaviour.
    if getattr(rendering_cards, "active", False):
        return ()
    return _weasyprint_margin_boxes(context, page, state)


weasyprint.layout.make_margin_boxes = _margin_boxes

# The class of the boxes whose drawing is recorded (cards/rendering/layers.py).
LAYER_CLASS = "layer"
_weasyprint_draw_stacking_context = weasyprint.draw.draw_stacking_context
_weasyprint_build_fonts_dictionary = weasyprint.pdf.build_fonts_dictionary


def _draw_stacking_context(stream, stacking_context):
    # While `rendering_cards.layers` is set (a ChunkLayers), the operators each layer box
    # adds to its page's content stream are recorded there as (stream, first, end):
    # WeasyPrint draws every absolutely positioned box as a stacking context of its own.
    layers = getattr(rendering_cards, "layers", None)
    element = stacking_context.box.element
    if layers is None or element is None or element.get("class") != LAYER_CLASS:
        return _weasyprint_draw_stacking_context(stream, stacking_context)
    first = len(stream.stream)
    _weasyprint_draw_stacking_context(stream, stacking_context)
    layers.spans.append((stream, first, len(stream.stream)))
    return None


def _build_fonts_dictionary(pdf, fonts, *args, **kwargs):
    # Every page is drawn, the fonts are not yet subset: the typeset cards add their glyphs.
    layers = getattr(rendering_cards, "layers", None)
    if layers is not None:
        layers.before_fonts(fonts)
    return _weasyprint_build_fonts_dictionary(pdf, fonts, *args, **kwargs)


weasyprint.draw.draw_stacking_context = _draw_stacking_context
weasyprint.pdf.build_fonts_dictionary = _build_fonts_dictionary


class LocalOnlyFetcher(URLFetcher):
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


class ErrorCollector(logging.Handler):
    """WeasyPrint logs (rather than raises) what it could not load; we want it raised."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())
