"""Phone numbers: normalising what people type into E.164, and masking it for display and logs.

Import, distribution and the integration test screens all read phone numbers typed by people
and all show them to staff, so the rules live here once.
"""

import re

import phonenumbers
from django.utils.translation import gettext as _
from phonenumbers import NumberParseException, PhoneNumberFormat

_LETTERS = re.compile(r"[^\W\d_]")


class InvalidPhone(ValueError):
    """`str(exc)` is a short sentence naming the problem, e.g. "phone has letters"."""


def phone_to_e164(raw, *, default_region):
    """`raw` as E.164 (`+221771234567`), or "" when it is blank.

    A number starting with `+` (or an international prefix such as 00) is read as
    international; otherwise it belongs to `default_region` (the program's country).
    """
    text = (raw or "").strip()
    if not text:
        return ""
    # phonenumbers would quietly turn vanity letters into digits; here they are typos.
    if _LETTERS.search(text):
        raise InvalidPhone(_("phone has letters"))
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else default_region)
    except NumberParseException:
        raise InvalidPhone(_("phone not a valid number")) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(_("phone not a valid number"))
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def mask_phone(e164):
    """`+221771234567` -> `+22177***4567`: enough to tell two numbers apart, not to dial one.

    The number of hidden digits is not shown, so the mask does not leak the length either.
    """
    if not e164:
        return ""
    digits = e164.lstrip("+")
    if len(digits) >= 9:
        return f"+{digits[:5]}***{digits[-4:]}"
    return f"+{digits[:3]}***{digits[-2:]}" if len(digits) > 5 else "+***"
