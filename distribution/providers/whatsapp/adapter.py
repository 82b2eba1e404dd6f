"""WhatsApp Business Cloud API (Meta Graph API): the card PNG as an image with a caption, or the
program's approved template when the person has not written to us in the last 24 hours.

Config: phone_number_id, access_token, template_name, template_language (app_secret and
verify_token are for the webhooks).
"""

from django.conf import settings
from django.utils.translation import gettext as _

from campaignid import outbound_http as http
from distribution.providers.adapter import Channel, ChannelError, ErrorKind, SendResult

PROVIDER = "whatsapp"

# Meta error `code` -> what to do (docs/providers.md). Unlisted codes fall back on the HTTP status.
ERROR_KINDS = {
    4: ErrorKind.THROTTLED,  # application request limit
    80007: ErrorKind.THROTTLED,  # WhatsApp Business Account rate limit
    130429: ErrorKind.THROTTLED,  # throughput reached
    # Pair rate limit (about one message per 6 s to one person): wait, it is not a failure.
    131056: ErrorKind.THROTTLED,
    131000: ErrorKind.RETRYABLE,  # something went wrong (temporary)
    131016: ErrorKind.RETRYABLE,  # service unavailable
    131047: ErrorKind.FALLBACK,  # re-engagement: more than 24 h since the person wrote
    131026: ErrorKind.FALLBACK,  # undeliverable (e.g. not on WhatsApp)
    100: ErrorKind.PERMANENT,  # invalid parameter
    131051: ErrorKind.PERMANENT,  # unsupported message type
    132000: ErrorKind.PERMANENT,  # template parameter count mismatch
    132001: ErrorKind.PERMANENT,  # template does not exist
    131008: ErrorKind.PERMANENT,  # required parameter missing
    131009: ErrorKind.PERMANENT,  # parameter value not valid
    190: ErrorKind.ACCOUNT,  # access token expired or invalid
    368: ErrorKind.ACCOUNT,  # temporarily blocked for policy violations
    131031: ErrorKind.ACCOUNT,  # business account locked
}
# Meta sends no Retry-After with 131056; its documented pair rate is one message per 6 s.
PAIR_RATE_RETRY_AFTER = 6.0
REENGAGEMENT = 131047


class WhatsAppChannel(Channel):
    code = "whatsapp"

    def _send(self, message):
        media_id = self._upload_png(message.image_png) if message.image_png else None
        if message.use_template:
            return self._send_template(message, media_id)
        try:
            return self._post_message(self._free_form(message, media_id))
        except ChannelError as exc:
            # Outside the 24-hour window only a template goes through; the PNG is uploaded.
            if exc.result.error_code == str(REENGAGEMENT) and self.config.get("template_name"):
                return self._send_template(message, media_id)
            raise

    def _check_credentials(self):
        response = http.request(
            "GET", self._url(), provider=PROVIDER, headers=self._auth(),
            params={"fields": "display_phone_number,verified_name,quality_rating"},
        )
        body = http.json_body(response)
        if response.status_code != 200:
            raise classify(response, body)
        name = body.get("verified_name") or body.get("display_phone_number") or ""
        return SendResult.sent("", detail=_("Phone number %(id)s (%(name)s) answers.") % {
            "id": self.config["phone_number_id"], "name": name})

    def _upload_png(self, png):
        response = http.request(
            "POST", self._url("media"), provider=PROVIDER, headers=self._auth(),
            data={"messaging_product": "whatsapp", "type": "image/png"},
            files={"file": ("card.png", png, "image/png")},
        )
        body = http.json_body(response)
        if response.status_code != 200 or not body.get("id"):
            raise classify(response, body)
        return body["id"]

    def _free_form(self, message, media_id):
        if media_id:
            kind, content = "image", {"id": media_id, "caption": message.text}
        else:
            kind, content = "text", {"body": message.text, "preview_url": True}
        return {**self._envelope(message), "type": kind, kind: content}

    def _send_template(self, message, media_id):
        components = []
        if media_id:
            components.append(
                {"type": "header",
                 "parameters": [{"type": "image", "image": {"id": media_id}}]}
            )
        if message.template_params:
            components.append(
                {"type": "body",
                 "parameters": [{"type": "text", "text": str(p)} for p in message.template_params]}
            )
        template = {
            "name": self.config["template_name"],
            "language": {"code": self.config.get("template_language") or message.language},
        }
        if components:
            template["components"] = components
        payload = {**self._envelope(message), "type": "template", "template": template}
        result = self._post_message(payload)
        return SendResult.sent(result.provider_message_id, via_template=True)

    def _post_message(self, payload):
        response = http.request(
            "POST", self._url("messages"), provider=PROVIDER, headers=self._auth(), json=payload
        )
        body = http.json_body(response)
        messages = body.get("messages")
        if response.status_code == 200 and messages and messages[0].get("id"):
            return SendResult.sent(messages[0]["id"])
        raise classify(response, body)

    def _envelope(self, message):
        return {"messaging_product": "whatsapp", "to": message.to.lstrip("+")}

    def _url(self, edge=""):
        base = f"{settings.WHATSAPP_API_URL.rstrip('/')}/{self.config['phone_number_id']}"
        return f"{base}/{edge}" if edge else base

    def _auth(self):
        return {"Authorization": f"Bearer {self.config['access_token']}"}


def classify(response, body):
    """The ChannelError for a Graph API answer that is not a success."""
    error = body.get("error")
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    try:
        code = int(code)
    except (TypeError, ValueError):
        code = None
    status = response.status_code
    kind = ERROR_KINDS.get(code)
    if kind is None:
        kind = _kind_for_status(status)
    error_data = error.get("error_data")
    details = error_data.get("details") if isinstance(error_data, dict) else ""
    detail = error.get("message") or f"HTTP {status}"
    if details and details not in detail:
        detail = f"{detail}: {details}"
    retry_after = http.retry_after_seconds(response)
    if kind == ErrorKind.THROTTLED and retry_after is None and code == 131056:
        retry_after = PAIR_RATE_RETRY_AFTER
    return ChannelError(
        kind, code if code is not None else f"http_{status}", detail,
        retry_after=retry_after if kind == ErrorKind.THROTTLED else None,
    )


def _kind_for_status(status):
    if status == 429:
        return ErrorKind.THROTTLED
    if status >= 500 or status in (408, 409):
        return ErrorKind.RETRYABLE
    if status in (401, 403):
        return ErrorKind.ACCOUNT
    return ErrorKind.PERMANENT
