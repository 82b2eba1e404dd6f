"""What every provider webhook shares: the body size cap and the answer past it.

A body over WEBHOOK_MAX_BYTES answers 413 unread (campaignid/limits.py caps it in front of
Django too). Webhooks answer 200 to anything well-formed, known message or not, so providers
do not retry what we chose to ignore; each status costs one conditional UPDATE
(distribution.delivery_status).
"""

from django.conf import settings
from django.http import HttpResponse

from campaignid.limits import body_over_limit, size_text


def webhook_body(request):
    """The raw body, or None when it is over WEBHOOK_MAX_BYTES (answer `too_large()`)."""
    return body_over_limit(request, settings.WEBHOOK_MAX_BYTES)


def too_large():
    return HttpResponse(
        f"The body is larger than {size_text(settings.WEBHOOK_MAX_BYTES)}.",
        status=413, content_type="text/plain",
    )
