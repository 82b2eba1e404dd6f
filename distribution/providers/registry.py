"""Every provider, one line each. A provider's adapter is imported on first use, so a worker
that only sends SMS never loads the others."""

from django.utils.module_loading import import_string

from distribution.providers.google_wallet.spec import GOOGLE_WALLET
from distribution.providers.orange_sms.spec import ORANGE_SMS
from distribution.providers.whatsapp.spec import WHATSAPP

PROVIDERS = {spec.code: spec for spec in (
    WHATSAPP,
    ORANGE_SMS,
    GOOGLE_WALLET,
)}


# The channel codes as a regular-expression alternative, for URL patterns and the schema.
CHANNEL_PATTERN = "|".join(PROVIDERS)


def provider(code):
    try:
        return PROVIDERS[code]
    except KeyError:
        raise ValueError(f"unknown channel {code!r}; one of {', '.join(PROVIDERS)}") from None


def adapter_class(code):
    return import_string(provider(code).adapter)


def card_extras(code):
    """The provider's `card_extras` function, or None when the text is all it sends."""
    path = provider(code).card_extras
    return import_string(path) if path else None
