"""PDF pages to card PNGs: pdfium renders each page at the card's exact pixel size, Pillow
maps it onto one palette per renderer (no dithering) and writes a fast PNG.

A palette PNG is ~30 KB and 1.8 ms a side, against 74 KB and 10 ms in RGB
(docs/rendering.md); cards carry flat colours and text, never photos.
"""

import ctypes
import io

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

CARD_WIDTH_MM = 85.60
CARD_HEIGHT_MM = 53.98
# Enough for the brand colours, the text and its anti-aliasing greys.
PALETTE_COLOURS = 64
PALETTE_EXACT_COLOURS = 16


def card_pixel_size(dpi):
    """(width, height) in pixels of an ID-1 card at `dpi`: 1011 x 638 at 300 dpi."""
    return round(CARD_WIDTH_MM / 25.4 * dpi), round(CARD_HEIGHT_MM / 25.4 * dpi)


def pages(pdf, size, step=1):
    """Every `step`-th page of an open pypdfium2 document as an RGB image of exactly `size`
    pixels, one at a time: a chunk's 50 bitmaps held together would cost ~100 MB at 300 dpi."""
    width, height = size
    bitmap = pdfium.PdfBitmap.new_native(width, height, pdfium_c.FPDFBitmap_BGR, rev_byteorder=True)
    try:
        for index in range(0, len(pdf), step):
            page = pdf[index]
            bitmap.fill_rect((255, 255, 255, 255), 0, 0, width, height)
            _draw(page, bitmap)
            page.close()
            yield bitmap.to_pil()  # a copy: the bitmap is reused for the next page
    finally:
        bitmap.close()


def card_fronts(pdf, size, step=1):
    """As `pages`, for the fronts of a card document (cards/rendering/renderer.py): each front draws
    the chunk's art first, as its first page object (a form XObject). The art is
    rasterised once; each front is drawn over a copy of it without its own art object,
    which halves pdfium's work per card. A page of another shape is rendered whole."""
    width, height = size
    bitmap = pdfium.PdfBitmap.new_native(width, height, pdfium_c.FPDFBitmap_BGR, rev_byteorder=True)
    try:
        art = _art_pixels(pdf[0], bitmap) if len(pdf) else None
        for index in range(0, len(pdf), step):
            page = pdf[index]
            first = pdfium_c.FPDFPage_GetObject(page, 0)
            if art is not None and _is_form(first):
                # Removed from this in-memory page only: the PDF bytes are not rewritten.
                pdfium_c.FPDFPage_RemoveObject(page, first)
                pdfium_c.FPDFPageObj_Destroy(first)
                ctypes.memmove(bitmap.buffer, art, len(art))
            else:
                bitmap.fill_rect((255, 255, 255, 255), 0, 0, width, height)
            _draw(page, bitmap)
            page.close()
            yield bitmap.to_pil()
    finally:
        bitmap.close()


def _draw(page, bitmap):
    # The page mapped onto exactly the bitmap's pixels: pdfium's own scaling would round
    # 1011.02 up to 1012. Drawn over what the bitmap holds.
    pdfium_c.FPDF_RenderPageBitmap(
        bitmap, page, 0, 0, bitmap.width, bitmap.height, 0, pdfium_c.FPDF_REVERSE_BYTE_ORDER
    )


def _is_form(page_object):
    return bool(page_object) and (
        pdfium_c.FPDFPageObj_GetType(page_object) == pdfium_c.FPDF_PAGEOBJ_FORM
    )


def _art_pixels(page, bitmap):
    """The pixels of `page`'s first object alone (the art), or None if it is no form."""
    try:
        if not _is_form(pdfium_c.FPDFPage_GetObject(page, 0)):
            return None
        for position in range(pdfium_c.FPDFPage_CountObjects(page) - 1, 0, -1):
            other = pdfium_c.FPDFPage_GetObject(page, position)
            pdfium_c.FPDFPage_RemoveObject(page, other)
            pdfium_c.FPDFPageObj_Destroy(other)
        bitmap.fill_rect((255, 255, 255, 255), 0, 0, bitmap.width, bitmap.height)
        _draw(page, bitmap)
        return bytes(bitmap.buffer)
    finally:
        page.close()


def build_palette(*samples):
    """A palette image for Image.quantize, from sample sides of the card: their most frequent
    exact colours (white, brand colours, text) so flat areas keep their true colour, then
    median-cut colours for the anti-aliased edges."""
    width = max(image.width for image in samples)
    sheet = Image.new("RGB", (width, sum(image.height for image in samples)), "white")
    top = 0
    for image in samples:
        sheet.paste(image, (0, top))
        top += image.height
    counts = sheet.getcolors(maxcolors=width * sheet.height) or []
    frequent = [colour for _, colour in sorted(counts, reverse=True)[:PALETTE_EXACT_COLOURS]]
    flat = sheet.quantize(colors=PALETTE_COLOURS, method=Image.Quantize.MEDIANCUT).getpalette()
    flat = flat[: 3 * PALETTE_COLOURS]
    candidates = frequent + [tuple(flat[i : i + 3]) for i in range(0, len(flat) - 2, 3)]
    # Pillow maps pixels to the palette through a coarse colour cube: a 252-grey next to
    # pure white would win the white cell and tint every background. Keep colours apart.
    kept = []
    for colour in candidates:
        if all(max(abs(a - b) for a, b in zip(colour, k, strict=True)) > 6 for k in kept):
            kept.append(colour)
    palette = Image.new("P", (1, 1))
    palette.putpalette([channel for colour in kept[:PALETTE_COLOURS] for channel in colour])
    return palette


def encode_png(image, palette):
    buffer = io.BytesIO()
    image.quantize(palette=palette, dither=Image.Dither.NONE).save(
        buffer, "PNG", compress_level=1
    )
    return buffer.getvalue()
