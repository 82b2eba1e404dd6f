"""How card text is measured and written: the bundled fonts, widths to shrink or cut text
before WeasyPrint lays it out (nothing may run off a card), dates and attribute values."""

import re
from pathlib import Path

from PIL import ImageFont

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
PT_PER_MM = 72 / 25.4


class TextFitter:
    """Text widths from the bundled fonts, to shrink or cut text before WeasyPrint sees it."""

    SAFETY = 0.94  # Pillow does not kern; a margin so WeasyPrint's line never overflows

    def __init__(self):
        self.fonts = {
            False: ImageFont.truetype(str(FONT_REGULAR), 100),
            True: ImageFont.truetype(str(FONT_BOLD), 100),
        }

    def width_pt(self, text, size_pt, bold=False):
        return self.fonts[bold].getlength(text) * size_pt / 100

    def cut(self, text, width_mm, size_pt, bold=False):
        """The text, cut with an ellipsis if it is wider than `width_mm`."""
        limit = width_mm * PT_PER_MM * self.SAFETY
        if self.width_pt(text, size_pt, bold) <= limit:
            return text
        lo, hi = 0, len(text)
        while lo < hi:  # the longest prefix that fits with its ellipsis
            mid = (lo + hi + 1) // 2
            if self.width_pt(text[:mid].rstrip() + "…", size_pt, bold) <= limit:
                lo = mid
            else:
                hi = mid - 1
        return text[:lo].rstrip() + "…"

    def wrap(self, text, width_mm, size_pt, max_lines, bold=False):
        """(text, whole): the text packed greedily on at most `max_lines` lines of
        `width_mm`, breaking at spaces (a word wider than a line is broken anywhere, as the
        card's `overflow-wrap: anywhere` does). `whole` is False when it needed more lines:
        the text is then cut with an ellipsis at the end of the last line.

        WeasyPrint may also break after hyphens: with more places to break, its greedy lines
        end no earlier than these, so the text never takes more lines than packed here."""
        limit = width_mm * PT_PER_MM * self.SAFETY

        def fits(line):
            return self.width_pt(line, size_pt, bold) <= limit

        text = " ".join(text.split())
        start = 0  # where the line being packed starts
        for _ in range(max_lines - 1):
            rest = text[start:]
            if fits(rest):
                return text, True
            end = 0  # the longest run of words that fits, else the longest prefix
            for match in re.finditer(" ", rest):
                if not fits(rest[: match.start()]):
                    break
                end = match.start()
            if not end:
                end = max(1, max(n for n in range(len(rest) + 1) if fits(rest[:n])))
            start += end
            while text[start : start + 1] == " ":
                start += 1
        last = self.cut(text[start:], width_mm, size_pt, bold)
        return text[:start] + last, last == text[start:]

    def shrink(self, text, width_mm, max_pt, min_pt, bold=False):
        """(size, text): the largest size up to max_pt at which the text fits one line, else
        min_pt and the text cut to fit."""
        natural = self.width_pt(text, 1, bold)
        if natural:
            size = min(max_pt, width_mm * PT_PER_MM * self.SAFETY / natural)
            if size >= min_pt:
                return round(size, 2), text
        return min_pt, self.cut(text, width_mm, min_pt, bold)
