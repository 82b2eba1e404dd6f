"""WhatsApp (Meta) delivery statuses: `GET /webhooks/whatsapp` answers Meta's subscription
check with the challenge when the verify token is one of our programs'; `POST` must carry
`X-Hub-Signature-256`, the HMAC-SHA256 of the raw body keyed with the app secret of the
integration whose phone number id the payload names; a bad signature is a 403 and changes
nothing.

Besides statuses, a notification carries the `messages` people send to the program's number:
a text (or quick-reply button) that is a STOP word opts the sender out (campaigns/opt_out.py).
"""

import hashlib
import hmac
import json
from datetime import UTC, datetime

from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from campaigns.models import OptOutSource
from campaigns.opt_out import beneficiary_opt_out, is_stop_message
from campaigns.phones import InvalidPhone, phone_to_e164
from distribution.delivery_status import StatusUpdate, apply_statuses, outcome_counts
from distribution.integrations import integration_config
from distribution.models import ChannelCode, Message, ProviderIntegration
from distribution.providers.webhook_body import too_large, webhook_body

WHATSAPP_STATUSES = {
    "sent": Message.Status.SENT,
    "delivered": Message.Status.DELIVERED,
    "read": Message.Status.READ,
    "failed": Message.Status.FAILED,
}


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp(request):
    if request.method == "GET":
        return _whatsapp_verify(request)
    body = webhook_body(request)
    if body is None:
        return too_large()
    try:
        payload = json.loads(body)
    except ValueError:
        return HttpResponseBadRequest("Not JSON.")
    changes = list(whatsapp_changes(payload))
    phone_ids = {phone_id for phone_id, _statuses, _messages in changes if phone_id}
    integrations = {
        i.account_id: i for i in ProviderIntegration.objects.filter(
            channel=ChannelCode.WHATSAPP, account_id__in=phone_ids
        ).select_related("program")
    }
    signature = request.headers.get("X-Hub-Signature-256", "")
    trusted = {
        phone_id for phone_id, integration in integrations.items()
        if _signed_by(integration, body, signature)
    }
    if not trusted:
        # Nothing we can attribute to one of our integrations was signed by it.
        return HttpResponseForbidden("Bad signature.")
    counts = outcome_counts()
    opted_out = 0
    for phone_id, statuses, messages in changes:
        if phone_id not in trusted:
            continue
        updates, untracked = whatsapp_updates(statuses)
        counts["unknown"] += untracked
        for outcome in apply_statuses(program_id=integrations[phone_id].program_id,
                                      channel=ChannelCode.WHATSAPP, updates=updates):
            counts[outcome] += 1
        for message in messages:
            opted_out += _opt_out_on_stop(integrations[phone_id].program, message)
    if opted_out:
        counts["opted_out"] = opted_out
    return JsonResponse(counts)


def _opt_out_on_stop(program, message):
    """How many people a STOP message (`{from: "221771234567", type: "text", text: {body}}`,
    or a quick-reply `button {text}`) opted out; anything else is ignored, not stored."""
    kind = message.get("type")
    holder = message.get("text") if kind == "text" else (
        message.get("button") if kind == "button" else None)
    body = holder.get("body" if kind == "text" else "text") if isinstance(holder, dict) else None
    if not isinstance(body, str) or not is_stop_message(body):
        return 0
    sender = str(message.get("from") or "")
    try:
        # Meta writes the number without its "+", always international.
        phone = phone_to_e164("+" + sender.lstrip("+"), default_region=program.country)
    except InvalidPhone:
        return 0
    return beneficiary_opt_out(program=program, phone=phone, source=OptOutSource.WHATSAPP)


def _whatsapp_verify(request):
    mode = request.GET.get("hub.mode")
    offered = request.GET.get("hub.verify_token", "")
    challenge = request.GET.get("hub.challenge", "")
    if mode == "subscribe" and offered:
        for integration in ProviderIntegration.objects.filter(channel=ChannelCode.WHATSAPP):
            expected = integration_config(integration=integration).get("verify_token", "")
            if expected and hmac.compare_digest(expected.encode(), offered.encode()):
                return HttpResponse(challenge, content_type="text/plain")
    return HttpResponseForbidden("Unknown verify token.")


def _signed_by(integration, body, signature):
    return signed_with(integration_config(integration=integration).get("app_secret", ""),
                       body, signature)


def signed_with(secret, body, signature):
    """Whether `signature` (X-Hub-Signature-256) is the body's HMAC under the app secret
    (shared with the receipt front, distribution/receipt_front.py)."""
    if not secret or not signature.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.removeprefix("sha256=").strip().lower())


def whatsapp_changes(payload):
    """(phone_number_id, [status dicts], [inbound message dicts]) for every change of a
    notification (inbound messages name the number too, whose secret signs them)."""
    if not isinstance(payload, dict):
        return
    for entry in payload.get("entry") or []:
        for change in (entry.get("changes") or []) if isinstance(entry, dict) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                continue
            metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
            statuses = [s for s in value.get("statuses") or [] if isinstance(s, dict)]
            messages = [m for m in value.get("messages") or [] if isinstance(m, dict)]
            yield str(metadata.get("phone_number_id") or ""), statuses, messages


def whatsapp_updates(statuses):
    """(the StatusUpdates of Meta's `statuses` we track, how many we do not). Shared with the
    receipt front (distribution/receipt_front.py)."""
    updates = [whatsapp_update(status) for status in statuses]
    return [u for u in updates if u is not None], updates.count(None)


def whatsapp_update(status):
    """The StatusUpdate of one of Meta's `statuses`, None for a status we do not track."""
    new = WHATSAPP_STATUSES.get(str(status.get("status")))
    if new is None:
        return None
    error = (status.get("errors") or [{}])[0] if new == Message.Status.FAILED else {}
    error = error if isinstance(error, dict) else {}
    details = (error.get("error_data") or {}).get("details", "") if isinstance(
        error.get("error_data"), dict) else ""
    return StatusUpdate(
        provider_message_id=str(status.get("id") or ""), status=new,
        at=_timestamp(status.get("timestamp")),
        error_code=str(error.get("code", "")),
        error_detail=details or error.get("title") or error.get("message") or "",
    )


def _timestamp(value):
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return timezone.now()
