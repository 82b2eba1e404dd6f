"""Card text set in the PDF without laying each card out: the operators WeasyPrint would
write for a line of text, from HarfBuzz's shaping of the same font at the same size.

WeasyPrint (70) shapes through Pango, which shapes with HarfBuzz at the font size in Pango
units (1/1024 px, truncated) and writes each line as one `TJ` of glyph ids, each followed by
its kerning: the glyph's width in the PDF font (1/1000 em, rounded, fixed at the glyph's
first use in the document) less its shaped advance, truncated (weasyprint/draw/text.py,
draw_first_line). `show_text` does the same sums in the same order, so the bytes match; the
renderer checks that on a card of every chunk (cards/rendering/layers.py).

What this does not set, it says by returning None, and the card is laid out by WeasyPrint:
a character the bundled font lacks (Pango would take another font), a glyph placed with
an offset (combining marks the font has no precomposed form for), right-to-left text.
"""

from dataclasses import dataclass
from functools import cache, lru_cache

import pydyf
import uharfbuzz as hb
from weasyprint.css.units import LENGTHS_TO_PIXELS

PANGO_SCALE = 1024


def size_units(size_pt):
    """A font size in pt as Pango holds it: px in 1/1024, truncated (8874 for 6.5 pt)."""
    return int(size_pt * LENGTHS_TO_PIXELS["pt"] * PANGO_SCALE)


@dataclass(frozen=True)
class ShapedLine:
    """One line of text shaped at `size` (Pango units): (glyph id, advance) and the text
    each glyph stands for, and the line's width in Pango units."""

    size: int
    glyphs: tuple
    texts: tuple
    width: int


class FontShaper:
    """HarfBuzz shaping of one font file, at any size."""

    def __init__(self, path):
        self.face = hb.Face(hb.Blob.from_file_path(str(path)))

    @lru_cache(maxsize=64)  # noqa: B019 - one shaper per font file, a few sizes per job
    def _font(self, size):
        font = hb.Font(self.face)
        font.scale = (size, size)
        return font

    def shape(self, text, size):
        """The line shaped at `size` (Pango units), or None when it needs what only Pango
        can do (see the module's docstring)."""
        buffer = hb.Buffer()
        codepoints = [ord(char) for char in text]
        buffer.add_codepoints(codepoints)
        buffer.guess_segment_properties()
        if buffer.direction != "ltr":
            return None
        hb.shape(self._font(size), buffer, {})
        infos, positions = buffer.glyph_infos, buffer.glyph_positions
        clusters = [info.cluster for info in infos] + [len(text)]
        glyphs, texts = [], []
        for index, (info, position) in enumerate(zip(infos, positions, strict=True)):
            if info.codepoint == 0 or position.x_offset or position.y_offset:
                return None
            glyphs.append((info.codepoint, position.x_advance))
            texts.append(text[clusters[index] : clusters[index + 1]])
        width = sum(advance for _, advance in glyphs)
        return ShapedLine(size=size, glyphs=tuple(glyphs), texts=tuple(texts), width=width)

    def advance(self, glyph, size):
        return self._font(size).get_glyph_h_advance(glyph)

    def line_metrics(self, size):
        """(ascent, descent) in Pango units at `size`."""
        extents = self._font(size).get_font_extents("ltr")
        return extents.ascender, -extents.descender


@cache
def shaper(path):
    """The process's shaper of a bundled font file."""
    return FontShaper(path)


def show_text(line, shaper, widths, to_unicode):
    """The `[...] TJ` operator of a shaped line. `widths` and `to_unicode` are the PDF font's
    (WeasyPrint's Font): a glyph used for the first time gets its width and text there, so
    the subset font keeps it and copied text reads right."""
    font_size = line.size / PANGO_SCALE
    string = "<"
    for (glyph, advance), text in zip(line.glyphs, line.texts, strict=True):
        if glyph not in to_unicode:
            to_unicode[glyph] = text
        string += f"{glyph:04x}"
        logical_width = widths.get(glyph)
        if logical_width is None:
            logical_width = widths[glyph] = round(
                shaper.advance(glyph, line.size) * 1000 / PANGO_SCALE / font_size
            )
        # WeasyPrint's sum, less its letter spacing (none on a card).
        kerning = logical_width - advance * 1000 / PANGO_SCALE / font_size
        if kerning:
            string += f">{int(kerning)}<"
    string = string[:-1] if string[-1] == "<" else string + ">"
    return b"[" + string.encode("ascii") + b"] TJ"


def text_matrix(x, y):
    """The `Tm` WeasyPrint writes for a line whose baseline starts at (x, y) px."""
    stream = pydyf.Stream()
    stream.set_text_matrix(1, 0, 0, -1, x, y)
    return stream.stream[0]


def font_size(font, size):
    """The `Tf` WeasyPrint writes for `font` (its resource name) at `size` Pango units."""
    stream = pydyf.Stream()
    stream.set_font_size(font, size / PANGO_SCALE)
    return stream.stream[0]
