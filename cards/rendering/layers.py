"""A chunk's card fronts as layers: what WeasyPrint lays out, what is typeset, and each
card's drawing operators for the PDF finisher (pdf_finisher.py).

Every front draws the same boxes: the name (one line, its size fitted per card), the
values that differ within the chunk (one line each) and the code (centred). WeasyPrint lays
out a model card, and any card typesetting cannot handle, as layers of one page, every
layer at the card's place (the renderer's HTML, `div.layer`); weasyprint_setup.py records
the operators each layer adds to that page. Every other card gets the model's operators
with its own lines put in (typesetting.py): text, size and position; the rest (clips,
colours, graphics state) is the model's, as WeasyPrint would have written it.

Before any typeset card is used, the model is typeset too and must come out as WeasyPrint
wrote it (glyphs and kerning byte for byte, positions within 1/1000 px); otherwise the whole
chunk is laid out by WeasyPrint and the renderer logs why.
"""

import itertools
import re
import unicodedata
from dataclasses import dataclass

from weasyprint.css.units import LENGTHS_TO_PIXELS

from cards.rendering.errors import CardRenderError
from cards.rendering.typesetting import (
    PANGO_SCALE,
    font_size,
    show_text,
    size_units,
    text_matrix,
)

# How far a typeset position may differ from WeasyPrint's (px): 1/1000 px, far below what
# a 600 dpi raster resolves; sums in another order differ by ~1e-12.
POSITION_TOLERANCE = 1e-3
_NUMBER = re.compile(rb"-?[0-9.]+")
_PLAIN = re.compile(r"\S+(?: \S+)*")
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


class LayersUnusable(CardRenderError):
    """The layers did not come out as expected: lay the chunk out one page per card."""


@dataclass(frozen=True)
class FrontText:
    """What one card front prints in its own layer."""

    name: str
    name_pt: float
    values: tuple
    code: str


@dataclass(frozen=True)
class FrontStyle:
    """The front's text boxes, as card.css sets them (the renderer's constants)."""

    name_line_height: float  # .name's line-height, a factor of its font size
    name_width_mm: float
    value_pt: float
    code_pt: float


class ChunkLayers:
    """One chunk's fronts: `laid_out` (card indexes WeasyPrint lays out as layers, in card
    order) and, once WeasyPrint has drawn them, every card's operators in card order."""

    def __init__(self, fronts, *, style, regular, bold):
        self.fronts = fronts
        self.style = style
        self.shapers = {"regular": regular, "bold": bold}
        self.spans = []  # (stream, first, end) of each laid-out layer, recorded while drawn
        self.shaped = [self._shape(front) for front in fronts]
        typeset = [index for index, lines in enumerate(self.shaped) if lines]
        self.model = typeset[0] if typeset else None
        # Typeset and compared with WeasyPrint's layout: the model, and a card whose name
        # size and code width differ from the model's, if the chunk has one.
        self.checked = typeset[:1] + [
            index for index in typeset
            if fronts[index].name_pt != fronts[typeset[0]].name_pt
            and self.shaped[index][-1].width != self.shaped[typeset[0]][-1].width
        ][:1]
        self.laid_out = [
            index for index, lines in enumerate(self.shaped)
            if not lines or index in self.checked
        ]
        self._typeset_operators = {}

    def _shape(self, front):
        """The card's lines shaped (name, values..., code), or None if WeasyPrint must lay
        the card out: a line typesetting cannot set, a blank line (not drawn at all) or a
        name too wide for one line (WeasyPrint would wrap it)."""
        style, bold, regular = self.style, self.shapers["bold"], self.shapers["regular"]
        if not all(map(_plain_line, (front.name, *front.values, front.code))):
            return None
        name = bold.shape(front.name, size_units(front.name_pt))
        values = [regular.shape(text, size_units(style.value_pt)) for text in front.values]
        code = bold.shape(front.code, size_units(style.code_pt))
        lines = [name, *values, code]
        if not all(lines):
            return None
        if name.width >= style.name_width_mm * LENGTHS_TO_PIXELS["mm"] * PANGO_SCALE:
            return None
        return lines

    # -- after WeasyPrint has drawn the layers, before it writes the fonts -----------------

    def before_fonts(self, fonts):
        """Typeset every card WeasyPrint did not lay out, from the model's operators; the
        glyphs they use go into `fonts` (WeasyPrint's, by resource name) so the embedded
        subsets hold them."""
        if len(self.spans) != len(self.laid_out):
            raise LayersUnusable(f"{len(self.spans)} layers drawn for {len(self.laid_out)}")
        if self.model is None:
            return
        model = self._laid_out_operators(self.model)
        slots = self._text_slots(model)
        fonts = {font.hash: font for font in fonts.values()}
        for index in self.checked:
            typeset = self._typeset(model, slots, index, fonts)
            if not _same_operators(typeset, self._laid_out_operators(index)):
                raise LayersUnusable(
                    f"card {self.fronts[index].code} typeset differs from WeasyPrint's layout"
                )
        laid_out = set(self.laid_out)
        for index in range(len(self.fronts)):
            if index not in laid_out:
                self._typeset_operators[index] = self._typeset(model, slots, index, fonts)

    def _laid_out_operators(self, index):
        stream, first, end = self.spans[self.laid_out.index(index)]
        return list(stream.stream[first:end])

    def _text_slots(self, model):
        """[(Tm index, Tf index or None, TJ index)] of each line the model draws."""
        slots, matrix, size = [], None, None
        for position, operator in enumerate(model):
            if not isinstance(operator, bytes):
                continue
            if operator.endswith(b" Tm"):
                matrix, size = position, None
            elif operator.endswith(b" Tf"):
                size = position
            elif operator.endswith(b" TJ"):
                slots.append((matrix, size, position))
        expected = len(self.shaped[self.model])
        if len(slots) != expected or slots[0][1] is None:
            raise LayersUnusable(f"the model card draws {len(slots)} lines, not {expected}")
        return slots

    def _typeset(self, model, slots, index, fonts):
        """The model's operators with card `index`'s lines put in."""
        operators = list(model)
        lines, model_lines = self.shaped[index], self.shaped[self.model]
        last = len(lines) - 1
        for number, ((matrix, size, text), line) in enumerate(zip(slots, lines, strict=True)):
            name = _font_name(model, size if size is not None else text)
            font = fonts[name]
            shaper = self.shapers["bold" if number in (0, last) else "regular"]
            operators[text] = show_text(line, shaper, font.widths, font.to_unicode)
            x, y = _matrix_origin(model[matrix])
            if number == 0:
                operators[size] = font_size(name, line.size)
                y = self._name_baseline(y, index)
            elif number == last:
                x += (model_lines[-1].width - line.width) / 2 / PANGO_SCALE  # centred
            operators[matrix] = text_matrix(x, y)
        return operators

    def _name_baseline(self, model_y, index):
        """Card `index`'s name baseline (px): WeasyPrint puts it half the leading (line
        height less the font's ascent and descent) below the box's top, plus the ascent;
        the box's top is where the model's baseline says."""
        def offset(card):
            front, size = self.fronts[card], self.shaped[card][0].size
            ascent, descent = self.shapers["bold"].line_metrics(size)
            line_height = self.style.name_line_height * front.name_pt * LENGTHS_TO_PIXELS["pt"]
            return (line_height - (ascent + descent) / PANGO_SCALE) / 2 + ascent / PANGO_SCALE

        return model_y - offset(self.model) + offset(index)

    def card_operators(self, stream):
        """Each card's layer operators, in card order."""
        spans = dict(zip(self.laid_out, self.spans, strict=True))
        if any(drawn is not stream for drawn, _, _ in self.spans):
            raise LayersUnusable("a layer was drawn outside the layers page")
        result = []
        for index in range(len(self.fronts)):
            if index in spans:
                _, first, end = spans[index]
                result.append(list(stream.stream[first:end]))
            else:
                result.append(self._typeset_operators[index])
        return result

    def frame(self, stream):
        """The layers page's operators before its first layer and after its last."""
        spans = sorted((first, end) for _, first, end in self.spans)
        if any(end != first for (_, end), (first, _) in itertools.pairwise(spans)):
            raise LayersUnusable("something was drawn between two layers")
        return stream.stream[: spans[0][0]], stream.stream[spans[-1][1] :]


def _plain_line(text):
    """Text WeasyPrint draws as it is: no blank, no space it would collapse, no invisible
    or control character (typesetting shapes the text as given)."""
    return bool(_PLAIN.fullmatch(text)) and not any(
        unicodedata.category(char) in _INVISIBLE for char in text
    )


def _font_name(model, position):
    """The resource name of the font a line is drawn in: the Tf at `position` or the last
    one before it."""
    operator = next(
        operator for operator in reversed(model[: position + 1])
        if isinstance(operator, bytes) and operator.endswith(b" Tf")
    )
    return operator.split()[0][1:].decode()


def _matrix_origin(operator):
    numbers = operator.split()
    return float(numbers[4]), float(numbers[5])


def _same_operators(typeset, laid_out):
    """Equal, but for positions within POSITION_TOLERANCE."""
    if len(typeset) != len(laid_out):
        return False
    for mine, theirs in zip(typeset, laid_out, strict=True):
        if mine == theirs:
            continue
        if not (isinstance(mine, bytes) and isinstance(theirs, bytes)):
            return False
        if _NUMBER.sub(b"#", mine) != _NUMBER.sub(b"#", theirs):
            return False
        numbers = zip(_NUMBER.findall(mine), _NUMBER.findall(theirs), strict=True)
        if any(abs(float(a) - float(b)) > POSITION_TOLERANCE for a, b in numbers):
            return False
    return True
