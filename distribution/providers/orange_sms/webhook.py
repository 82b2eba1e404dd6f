"""Orange SMS callbacks: `POST /webhooks/orange/<token>`, the token being the integration's own
secret (Orange does not sign its callbacks, nor send a header we choose: the secret is in the
URL, and campaignid/log_masking.py masks it in every log).

Two notifications arrive there: delivery receipts (`deliveryInfoNotification`) and the SMS
people send to the program's number (`inboundSMSMessageNotification`), where a STOP word
opts the sender out (campaigns/opt_out.py).
"""

import json

from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from campaigns.models import OptOutSource
from campaigns.opt_out import beneficiary_opt_out, is_stop_message
from campaigns.phones import InvalidPhone, phone_to_e164
from distribution.delivery_status import StatusUpdate, apply_statuses, outcome_counts
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
    # Receipts need only the program's id; the program itself is read for a STOP reply.
    integration = get_object_or_404(ProviderIntegration, channel=ChannelCode.SMS,
                                    webhook_token=token)
    try:
        payload = json.loads(body)
    except ValueError:
        return HttpResponseBadRequest("Not JSON.")
    if isinstance(payload, dict) and isinstance(payload.get("inboundSMSMessageNotification"), dict):
        return _inbound(integration, payload["inboundSMSMessageNotification"])
    updates = delivery_updates(payload, now=timezone.now())
    if updates is None:
        return HttpResponseBadRequest(
            "Expected a deliveryInfoNotification or an inboundSMSMessageNotification.")
    counts = outcome_counts()
    for outcome in apply_statuses(program_id=integration.program_id, channel=ChannelCode.SMS,
                                  updates=updates):
        counts[outcome] += 1
    return JsonResponse(counts)


def delivery_updates(payload, *, now):
    """The StatusUpdates of a `deliveryInfoNotification` (one deliveryInfo, or a list), in
    order; None when the payload is not one. Shared with the receipt front
    (distribution/receipt_front.py)."""
    notification = payload.get("deliveryInfoNotification") if isinstance(payload, dict) else None
    if not isinstance(notification, dict):
        return None
    info = notification.get("deliveryInfo")
    infos = info if isinstance(info, list) else [info]
    updates = []
    for item in infos:
        if not isinstance(item, dict):
            continue
        status = ORANGE_STATUSES.get(str(item.get("deliveryStatus")))
        if status is None:
            continue
        failed = status == Message.Status.FAILED
        updates.append(StatusUpdate(
            provider_message_id=_orange_message_id(notification, item), status=status, at=now,
            error_code="DeliveryImpossible" if failed else "",
            error_detail=ORANGE_UNDELIVERED if failed else "",
        ))
    return updates


def _orange_message_id(notification, info):
    """Orange's id of the SMS: the end of a resourceURL when the callback has one, else the
    callbackData (how Orange names the message is not documented firmly: accept both)."""
    for holder in (info, notification):
        url = holder.get("resourceURL") or holder.get("resourceUrl")
        if url:
            return str(url).rstrip("/").rsplit("/", 1)[-1]
    return str(notification.get("callbackData") or info.get("callbackData") or "")


def _inbound(integration, notification):
    """An SMS someone sent to the program's number: `inboundSMSMessage {senderAddress
    ("tel:+221..."), message, messageId, dateTime}` (one, or a list). A STOP word opts the
    sender out of the program's messages; anything else is ignored (and not stored)."""
    found = notification.get("inboundSMSMessage")
    messages = found if isinstance(found, list) else [found]
    counts = {"opted_out": 0, "ignored": 0}
    for message in messages:
        if not isinstance(message, dict) or not is_stop_message(str(message.get("message"))):
            counts["ignored"] += 1
            continue
        sender = str(message.get("senderAddress") or "").removeprefix("tel:")
        try:
            phone = phone_to_e164(sender, default_region=integration.program.country)
        except InvalidPhone:
            counts["ignored"] += 1
            continue
        counts["opted_out"] += beneficiary_opt_out(
            program=integration.program, phone=phone, source=OptOutSource.SMS)
    return JsonResponse(counts)
