"""Orange SMS delivery statuses: `POST /webhooks/orange/<token>`, the token being the
integration's own secret (Orange does not sign its callbacks, nor send a header we choose:
the secret is in the URL, and campaignid/log_masking.py masks it in every log).
"""

import json

from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from distribution.delivery_status import apply_status
from distribution.models import ChannelCode, Message, ProviderIntegration
from distribution.providers.error_labels import ORANGE_UNDELIVERED
from distribution.providers.webhook_body import too_large, webhook_body

# Orange (GSMA OneAPI) delivery statuses. DeliveryUncertain says nothing new: ignored.
ORANGE_STATUSES = {
    "DeliveredToTerminal": Message.Status.DELIVERED,
    "DeliveredToNetwork": Message.Status.SENT,
    "MessageWaiting": Message.Status.SENT,
    "DeliveryImpossible": Message.Status.FAILED,
}


@csrf_exempt
@require_POST
def orange(request, token):
    body = webhook_body(request)
    if body is None:
        return too_large()
    integration = get_object_or_404(
        ProviderIntegration, channel=ChannelCode.SMS, webhook_token=token
    )
    try:
        payload = json.loads(body)
    except ValueError:
        return HttpResponseBadRequest("Not JSON.")
    notification = payload.get("deliveryInfoNotification") if isinstance(payload, dict) else None
    if not isinstance(notification, dict):
        return HttpResponseBadRequest("Expected a deliveryInfoNotification.")
    info = notification.get("deliveryInfo")
    infos = info if isinstance(info, list) else [info]
    counts = {"updated": 0, "unchanged": 0, "parked": 0, "unknown": 0}
    for item in infos:
        if not isinstance(item, dict):
            continue
        status = ORANGE_STATUSES.get(str(item.get("deliveryStatus")))
        message_id = _orange_message_id(notification, item)
        if status is None:
            continue
        outcome = apply_status(
            program_id=integration.program_id, channel=ChannelCode.SMS,
            provider_message_id=message_id, status=status, at=timezone.now(),
            error_code="DeliveryImpossible" if status == Message.Status.FAILED else "",
            error_detail=ORANGE_UNDELIVERED if status == Message.Status.FAILED else "",
        )
        counts[outcome] += 1
    return JsonResponse(counts)


def _orange_message_id(notification, info):
    """Orange's id of the SMS: the end of a resourceURL when the callback has one, else the
    callbackData (how Orange names the message is not documented firmly: accept both)."""
    for holder in (info, notification):
        url = holder.get("resourceURL") or holder.get("resourceUrl")
        if url:
            return str(url).rstrip("/").rsplit("/", 1)[-1]
    return str(notification.get("callbackData") or info.get("callbackData") or "")
