"""Provider adapters, one module each, all with the interface of `base.Channel`.

A channel code (as stored on a program's integration and on a message) names its class here;
the class is imported on first use so a worker that only sends SMS never loads the others.
"""

from django.utils.module_loading import import_string

CHANNEL_CLASSES = {
    "whatsapp": "distribution.channels.whatsapp.WhatsAppChannel",
    "sms": "distribution.channels.orange_sms.OrangeSmsChannel",
    "wallet": "distribution.channels.google_wallet.GoogleWalletChannel",
}


def channel_class(code):
    try:
        return import_string(CHANNEL_CLASSES[code])
    except KeyError:
        raise ValueError(f"unknown channel {code!r}; one of {', '.join(CHANNEL_CLASSES)}") from None
