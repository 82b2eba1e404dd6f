"""Each card's QR drawn into the PDF as a 1-bit image, by the finisher (pdf_finisher.py)."""

import pydyf

from cards.rendering.pdf_objects import page_contents

# Where the front's QR is drawn (mm from the card's top left corner; a square). The card
# template leaves that box empty and the PDF finisher draws the QR there as a 1-bit image:
# WeasyPrint would decode, lay out and re-encode one image per card (~1.3 ms a card).
QR_LEFT_MM, QR_TOP_MM, QR_SIZE_MM = 58.6, 14, 24
PT_PER_MM = 72 / 25.4
# A module (1 = dark) as the binary digit of its pixel (0 = black).
_DARK_AS_ZERO = bytes.maketrans(b"\0\1", b"10")


def qr_image(matrix):
    """A QR module matrix as a PDF image: one bit a module, 0 = dark, rows padded to bytes."""
    size = len(matrix)
    if not size or any(len(row) != size for row in matrix):
        raise ValueError("a QR code is a non-empty square of modules")
    stride = (size + 7) // 8
    # Each row read as a binary number, by table rather than module by module (0.2 ms a card).
    packed = b"".join(
        int(bytes(row).translate(_DARK_AS_ZERO).ljust(8 * stride, b"1"), 2)
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


def draw_qr(pdf, page, resources, image, name):
    """Draw `image` in the QR box of `page`, named `name` in the shared `resources`."""
    pdf.add_object(image)
    resources["XObject"][name] = image.reference
    height_pt = float(page["MediaBox"][3])
    size = QR_SIZE_MM * PT_PER_MM
    x, y = QR_LEFT_MM * PT_PER_MM, height_pt - (QR_TOP_MM + QR_SIZE_MM) * PT_PER_MM
    # First on the page's own stream, so it is drawn in the page's default coordinates.
    stream = page_contents(pdf, page)
    stream.stream.insert(0, f"q {size:.4f} 0 0 {size:.4f} {x:.4f} {y:.4f} cm /{name} Do Q")
