"""Words for the error codes staff see in logs and test results, in their language.

The codes stay machine values (stored, filtered, in the API); a provider's own numeric or
named code without an entry here is shown as it is, beside the provider's text.
"""

from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

ERROR_LABELS = {
    "connect_timeout": _("connection timed out"),
    "connection_error": _("cannot connect"),
    "timeout": _("no answer in time"),
    "connection_lost": _("connection broken"),
    "invalid_url": _("invalid address"),
    "host_not_allowed": _("address not allowed"),
    "response_too_large": _("answer too large"),
    "no_card_code": _("no card"),
    "bad_private_key": _("invalid private key"),
    "in_progress": _("still being sent"),
    "outcome_unknown": _("outcome unknown"),
    "internal_error": _("provider error"),
    "DeliveryImpossible": _("delivery impossible"),
}


def error_label(code):
    """`code` in the user's language, or the code itself when it has no words here."""
    if not code:
        return ""
    label = ERROR_LABELS.get(str(code))
    return str(label) if label else str(code)


# Details our own code stores with a failed message (error_detail), in English: the same text
# whoever's worker wrote it, translated when shown (error_detail_text). Any other detail is
# the provider's own text and is shown as it came.
SENDER_STOPPED = gettext_noop(
    "The sender stopped during the provider call; not sent again to avoid a duplicate."
)
MAY_HAVE_SENT_DETAIL = gettext_noop(
    "No answer in time: the provider may have sent it; not sent again."
)
MAY_HAVE_SENT_IN_RUN = gettext_noop(
    "No answer in time: the provider may have sent it, so it is not sent again."
)
ORANGE_UNDELIVERED = gettext_noop("Orange could not deliver the SMS")
OWN_DETAILS = frozenset(
    {SENDER_STOPPED, MAY_HAVE_SENT_DETAIL, MAY_HAVE_SENT_IN_RUN, ORANGE_UNDELIVERED}
)


def error_detail_text(detail):
    """A stored error detail in the user's language when it is one of ours, else as is."""
    return gettext(detail) if detail in OWN_DETAILS else (detail or "")
