"""How many SMS segments a text costs: GSM-7 when every character is in the GSM 03.38 alphabet,
UCS-2 otherwise (one `ç` or typographic apostrophe doubles the price of a French message).

Units: GSM-7 counts 1 per character and 2 for the extension table (escape + character);
UCS-2 counts 1 per UTF-16 code unit, so a character outside the BMP (most emoji) counts 2.
One segment holds 160 / 70 units; a longer text is split into segments of 153 / 67 (the rest
carries the concatenation header), and a 2-unit character is never split across two segments.
"""

from dataclasses import dataclass
from decimal import Decimal

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

LIMITS = {
    # encoding: (units in a single segment, units per segment of a concatenated message)
    "GSM-7": (160, 153),
    "UCS-2": (70, 67),
}


@dataclass(frozen=True)
class SmsCount:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int
    segments: int


def is_gsm7(text):
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def sms_segments(text):
    """The encoding, units and segments of `text`; an empty text is 0 segments."""
    if is_gsm7(text):
        encoding, costs = "GSM-7", [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    else:
        encoding, costs = "UCS-2", [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    units = sum(costs)
    single, per_segment = LIMITS[encoding]
    if units == 0:
        segments = 0
    elif units <= single:
        segments = 1
    else:
        segments, used = 1, 0
        for cost in costs:
            if used + cost > per_segment:
                segments, used = segments + 1, 0
            used += cost
    return SmsCount(encoding=encoding, units=units, segments=segments)


def sms_cost(text, price_per_segment):
    """The price of sending `text` once, as a Decimal (`price_per_segment` as str/int/Decimal)."""
    return sms_segments(text).segments * Decimal(str(price_per_segment))
