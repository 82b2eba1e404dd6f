"""PDF pages to card PNGs: pdfium renders each page at the card's exact pixel size, Pillow
maps it onto one palette per renderer (no dithering) and ISA-L deflates it into a palette PNG.

A palette PNG is ~33 KB a side at 300 dpi, against 74 KB in RGB; cards carry flat colours
and text, never photos. A card front costs ~1 ms to rasterise and ~1 ms to encode: its art
is mapped onto the palette once per chunk, each front maps only its own objects' pixels
(docs/rendering.md, "Mapping only what a front changes" and "Deflate").
"""

import ctypes
import io
import struct
import zlib

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from isal import isal_zlib
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
    """As `pages`, for the fronts of a card document (cards/rendering/renderer.py), as
    `CardFront`s: each front draws the chunk's art first, as its first page object (a form
    XObject). The art is rasterised once; each front is drawn over a copy of it without its
    own art object, which halves pdfium's work per card. A page of another shape is rendered
    whole. The fronts share one bitmap: encode each before taking the next."""
    width, height = size
    bitmap = pdfium.PdfBitmap.new_native(width, height, pdfium_c.FPDFBitmap_BGR, rev_byteorder=True)
    try:
        pixels = _art_pixels(pdf[0], bitmap) if len(pdf) else None
        art = _Art(pixels, bitmap) if pixels is not None else None
        for index in range(0, len(pdf), step):
            page = pdf[index]
            first = pdfium_c.FPDFPage_GetObject(page, 0)
            if art is not None and _is_form(first):
                # Removed from this in-memory page only: the PDF bytes are not rewritten.
                pdfium_c.FPDFPage_RemoveObject(page, first)
                pdfium_c.FPDFPageObj_Destroy(first)
                ctypes.memmove(bitmap.buffer, art.pixels, len(art.pixels))
                _draw(page, bitmap)
                front = CardFront(bitmap, art, _object_boxes(page, width, height))
            else:
                bitmap.fill_rect((255, 255, 255, 255), 0, 0, width, height)
                _draw(page, bitmap)
                front = CardFront(bitmap)
            page.close()
            yield front
    finally:
        bitmap.close()


class CardFront:
    """A front as card_fronts drew it into its bitmap; valid until the next front is drawn.

    Over the art, only the pixels inside the boxes of the front's own objects (name, values,
    code, QR: about a sixth of the card) can differ from the art's: mapping a pixel to the
    palette depends on its colour alone, so the art is mapped once per chunk and each front
    maps only its boxes. The PNG has the same palette index in every pixel as mapping the
    whole front (tests/test_card_png.py)."""

    def __init__(self, bitmap, art=None, boxes=None):
        self._bitmap, self._art, self._boxes = bitmap, art, boxes

    def image(self):
        """The whole front as an RGB image (a copy)."""
        return self._bitmap.to_pil()

    def png(self, palette):
        if self._art is None:
            return encode_png(self.image(), palette)
        rows = self._art.rows(palette)
        for box in self._boxes:
            rows.paste(palette.indices(_region(self._bitmap, box)), (box[0] + 1, box[1]))
        self._art.changed(self._boxes)
        return palette.png(rows)


class _Art:
    """The chunk's art: its pixels, and its palette indices once a front needs them, in one
    image that each front changes in its boxes only (a copy a card allocated 0.6 MB)."""

    def __init__(self, pixels, bitmap):
        self.pixels = pixels
        self._size, self._stride = (bitmap.width, bitmap.height), bitmap.stride
        self._palette = self._art_rows = self._rows = None
        self._changed = ()

    def rows(self, palette):
        """`_png_rows` of the art's indices in `palette`, ready for a front's boxes."""
        if palette is not self._palette:
            image = Image.frombuffer("RGB", self._size, self.pixels, "raw", "RGB", self._stride, 1)
            self._palette, self._art_rows = palette, _png_rows(palette.indices(image))
            self._rows, self._changed = self._art_rows.copy(), ()
        for left, top, right, bottom in self._changed:
            art = self._art_rows.crop((left + 1, top, right + 1, bottom))
            self._rows.paste(art, (left + 1, top))
        self._changed = ()
        return self._rows

    def changed(self, boxes):
        self._changed = boxes


# Anti-aliasing and rounding to whole pixels reach at most a pixel past an object's bounds.
_BOX_MARGIN_PX = 2


def _object_boxes(page, width, height):
    """(left, top, right, bottom) in pixels of each object of `page`, with a margin."""
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    x, y = ctypes.c_int(), ctypes.c_int()
    boxes = []
    for position in range(pdfium_c.FPDFPage_CountObjects(page)):
        page_object = pdfium_c.FPDFPage_GetObject(page, position)
        if not pdfium_c.FPDFPageObj_GetBounds(page_object, left, bottom, right, top):
            return [(0, 0, width, height)]
        corners = []
        for page_x, page_y in ((left, top), (right, bottom)):
            pdfium_c.FPDF_PageToDevice(
                page, 0, 0, width, height, 0, page_x.value, page_y.value, x, y
            )
            corners.append((x.value, y.value))
        (x0, y0), (x1, y1) = corners
        box = (
            max(0, min(x0, x1) - _BOX_MARGIN_PX), max(0, min(y0, y1) - _BOX_MARGIN_PX),
            min(width, max(x0, x1) + _BOX_MARGIN_PX), min(height, max(y0, y1) + _BOX_MARGIN_PX),
        )
        if box[0] < box[2] and box[1] < box[3]:
            boxes.append(box)
    return boxes


def _region(bitmap, box):
    """The RGB pixels of `box` in `bitmap`, copied (only that box)."""
    left, top, right, bottom = box
    start = top * bitmap.stride + 3 * left
    pixels = memoryview(bitmap.buffer).cast("B")[start:]
    return Image.frombuffer(
        "RGB", (right - left, bottom - top), pixels, "raw", "RGB", bitmap.stride, 1
    )


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
    """A `Palette` from sample sides of the card: their most frequent exact colours (white,
    brand colours, text) so flat areas keep their true colour, then median-cut colours for
    the anti-aliased edges."""
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
    return Palette(palette)


class Palette:
    """One renderer's palette: Pillow maps colours onto it (no dithering), and palette PNGs
    are written with its PLTE chunk exactly as Pillow writes it."""

    def __init__(self, image):
        self.image = image
        probe = io.BytesIO()
        image.save(probe, "PNG")
        chunks = _png_chunks(probe.getvalue())
        # Pillow writes a palette of 16 colours or fewer with 1 to 4 bits a pixel; ours has
        # more, but such a palette is left to Pillow's own writer.
        self._bit_depth = chunks[b"IHDR"][0][8]
        self._header = b"".join(
            _png_chunk(kind, body) for kind in (b"PLTE", b"tRNS") for body in chunks.get(kind, ())
        )

    def indices(self, image):
        """An RGB image mapped onto the palette: a P image."""
        return image.quantize(palette=self.image, dither=Image.Dither.NONE)

    def png(self, rows):
        """The PNG of `rows` (`_png_rows`: the palette indices after a filter column)."""
        width, height = rows.width - 1, rows.height
        if self._bit_depth != 8:
            indices = rows.crop((1, 0, width + 1, height))
            indices.putpalette(self.image.getpalette())
            buffer = io.BytesIO()
            indices.save(buffer, "PNG", compress_level=1)
            return buffer.getvalue()
        return b"".join((
            _PNG_SIGNATURE,
            _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)),
            self._header,
            _png_chunk(b"IDAT", isal_zlib.compress(rows.tobytes(), _DEFLATE_LEVEL)),
            _png_chunk(b"IEND", b""),
        ))


def encode_png(image, palette):
    """An RGB image as a PNG of `palette`'s colours."""
    return palette.png(_png_rows(palette.indices(image)))


# ISA-L's level 1 deflates a card side 4x faster than zlib's level 1, as small (~33 KB at 300
# dpi); its level 0 makes 43 KB (docs/rendering.md, "Deflate").
_DEFLATE_LEVEL = 1
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_rows(indices):
    """A P image one pixel wider than `indices`, its first column 0: its bytes are the PNG's
    image data with filter type 0 (none) on every row. Pillow's adaptive filters cost ~1 ms a
    side and saved nothing here (35.1 KB against 34.9 unfiltered, both zlib level 1)."""
    rows = Image.new("P", (indices.width + 1, indices.height), 0)
    rows.paste(indices, (1, 0))
    return rows


def _png_chunk(kind, body):
    return b"".join((
        struct.pack(">I", len(body)), kind, body,
        struct.pack(">I", zlib.crc32(body, zlib.crc32(kind))),
    ))


def _png_chunks(png):
    """{kind: [body, ...]} of a PNG's chunks."""
    chunks, position = {}, len(_PNG_SIGNATURE)
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        chunks.setdefault(kind, []).append(png[position + 8 : position + 8 + length])
        position += 12 + length
    return chunks
