"""A program's logo: the one check and re-encoding every path goes through (Card Studio upload,
admin form, the model field's validator, the renderer reading a stored file).

Only PNG and JPEG, recognised from the bytes (Pillow), never from the name or the declared
type: an HTML or SVG file is refused. The image's size is read from its header and refused
above LOGO_MAX_SIDE a side or LOGO_MAX_SOURCE_PIXELS before a pixel is decoded (a tiny PNG can
claim 13000 x 13000). What is stored is a re-encoded PNG of at most LOGO_STORED_SIDE a side:
no metadata (EXIF, GPS, comments), nothing but pixels.
"""

import hashlib
import io
import warnings

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

LOGO_MAX_BYTES = 1024 * 1024
LOGO_FORMATS = {"PNG", "JPEG"}
LOGO_MAX_SIDE = 4096
LOGO_MAX_SOURCE_PIXELS = LOGO_MAX_SIDE * LOGO_MAX_SIDE
LOGO_STORED_SIDE = 600


def logo_content(*, upload, slug):
    """The checked, re-encoded logo as a ContentFile named `<slug>-<hash>.png` (the hash of
    the pixels: cached previews drawn with an older logo are left behind). Raises
    ValidationError saying what is wrong."""
    png = logo_png(read_at_most(upload))
    return ContentFile(png, name=f"{slug}-{hashlib.sha256(png).hexdigest()[:12]}.png")


def read_at_most(upload, limit=LOGO_MAX_BYTES):
    if upload is None:
        raise _error(_("Choose a PNG or JPEG image."))
    too_big = _error(_("The logo must be at most 1 MB; this file is larger."))
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise too_big
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit + 1)
    if hasattr(upload, "seek"):
        upload.seek(0)
    if len(data) > limit:
        raise too_big
    if not data:
        raise _error(_("The file is empty."))
    return data


def logo_png(data):
    """PNG bytes of the image in `data`, at most LOGO_STORED_SIDE a side, metadata dropped."""
    try:
        with _open(io.BytesIO(data)) as image:
            check_header(image)
            image.load()
            # Palette and grey PNGs, JPEGs in CMYK: one mode, transparency kept.
            image = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as exc:
        raise _not_an_image() from exc
    image.thumbnail((LOGO_STORED_SIDE, LOGO_STORED_SIDE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def check_header(image):
    """Raises ValidationError unless the opened (not decoded) image is a PNG or JPEG of an
    acceptable size."""
    if image.format not in LOGO_FORMATS:
        raise _not_an_image()
    width, height = image.size
    if width > LOGO_MAX_SIDE or height > LOGO_MAX_SIDE or width * height > LOGO_MAX_SOURCE_PIXELS:
        raise _error(
            _("The logo image is too large (%(width)s by %(height)s pixels); use at most "
              "%(side)s by %(side)s pixels.")
            % {"width": width, "height": height, "side": LOGO_MAX_SIDE}
        )


def validate_logo(value):
    """Model field validator: a newly assigned file must be a PNG or JPEG within the limits
    (files already stored were checked when they came in)."""
    if not value or getattr(value, "_committed", True):
        return
    data = read_at_most(value.file)
    try:
        with _open(io.BytesIO(data)) as image:
            check_header(image)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as exc:
        raise _not_an_image() from exc


def open_stored(handle):
    """The stored logo opened and decoded, refusing (ValueError) one that was never checked
    (stored before these rules) and is too large or not an image."""
    image = _open(handle)
    try:
        check_header(image)
    except ValidationError as exc:
        image.close()
        raise ValueError(exc.message) from None
    image.load()
    return image


def _open(handle):
    # Reads the header only. Pillow's own bomb warning is noise here: check_header decides.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return Image.open(handle)


def _not_an_image():
    return _error(_("The logo must be a PNG or JPEG image; this file is not one."))


def _error(message):
    return ValidationError(message, code="logo")
