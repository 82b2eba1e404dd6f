"""The program's logo on a card, and images as data URIs for the card's stylesheet."""

import base64
import io

from PIL import Image, ImageDraw, ImageFont

from campaigns.logos import open_stored
from cards.card_text import FONT_BOLD


def data_uri(mime, data):
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def logo_png(program, colour):
    """The program's logo as a PNG at most 256 px wide, or a white disc with its initials."""
    if program.logo:
        with program.logo.open("rb") as handle:
            # A file stored before the logo rules is still sized up before it is decoded.
            image = open_stored(handle)
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
