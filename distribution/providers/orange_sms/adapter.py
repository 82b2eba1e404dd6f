"""Orange SMS API (Middle East & Africa): OAuth2 client credentials, one POST per SMS.

Config: client_id, client_secret, sender_address (`tel:+2210000`), sender_name (optional,
at most 11 letters/digits, registered with Orange).
"""

from urllib.parse import quote

from django.conf import settings
from django.utils.translation import gettext as _

from campaignid import outbound_http as http
from distribution import tokens
from distribution.providers.adapter import Channel, ChannelError, ErrorKind, SendResult

PROVIDER = "orange"

# `serviceException` / `policyException` messageId -> what to do. Policy errors are about the
# contract (no SMS left, expired contract, sender not allowed): every later message would fail.
EXCEPTION_KINDS = {
    "SVC0001": ErrorKind.RETRYABLE,  # generic service error
    "SVC0002": ErrorKind.PERMANENT,  # invalid input value
    "SVC0004": ErrorKind.PERMANENT,  # no valid address (the recipient)
    "SVC0005": ErrorKind.PERMANENT,  # duplicate correlator
    "SVC1000": ErrorKind.PERMANENT,  # missing parameter
}
EXPIRED_CREDENTIALS = 42


class OrangeSmsChannel(Channel):
    code = "sms"

    def _send(self, message):
        token = self._token()
        response = self._post_sms(message, token)
        if response.status_code == 401:
            # The cached token died early (revoked, or expired on Orange's clock): renew once.
            token = self._token(stale=token)
            response = self._post_sms(message, token)
            if response.status_code == 401:
                raise _error(response, ErrorKind.ACCOUNT)
        return _result(response)

    def _check_credentials(self):
        tokens.forget_token(self._cache_key())
        self._token()
        return SendResult.sent("", detail=_("Orange accepted the client credentials."))

    def _post_sms(self, message, token):
        sender = self.config["sender_address"]
        request = {
            "address": f"tel:{message.to}",
            "senderAddress": sender,
            "outboundSMSTextMessage": {"message": message.text},
        }
        if self.config.get("sender_name"):
            request["senderName"] = self.config["sender_name"]
        url = (
            f"{settings.ORANGE_API_URL.rstrip('/')}/smsmessaging/v1/outbound/"
            f"{quote(sender, safe='')}/requests"
        )
        return http.request(
            "POST", url, provider=PROVIDER, json={"outboundSMSMessageRequest": request},
            headers={"Authorization": f"Bearer {token}"},
        )

    def _token(self, *, stale=None):
        return tokens.cached_token(self._cache_key(), self._fetch_token, stale=stale)

    def _cache_key(self):
        return tokens.cache_key(PROVIDER, settings.ORANGE_API_URL, self.config["client_id"])

    def _fetch_token(self):
        response = http.request(
            "POST", f"{settings.ORANGE_API_URL.rstrip('/')}/oauth/v3/token", provider=PROVIDER,
            auth=(self.config["client_id"], self.config["client_secret"]),
            data={"grant_type": "client_credentials"},
            headers={"Accept": "application/json"},
        )
        body = http.json_body(response)
        if response.status_code == 200 and body.get("access_token"):
            return body["access_token"], body.get("expires_in") or 3600
        if response.status_code in (400, 401, 403):
            raise ChannelError(
                ErrorKind.ACCOUNT, f"token_http_{response.status_code}",
                f"Orange refused the client credentials: {_text(body) or response.reason}",
            )
        raise _error(response, None)


def _result(response):
    body = http.json_body(response)
    if response.status_code in (200, 201):
        request = body.get("outboundSMSMessageRequest")
        request = request if isinstance(request, dict) else {}
        resource = (request.get("resourceURL") or body.get("resourceURL")
                    or response.headers.get("Location") or "")
        return SendResult.sent(resource.rstrip("/").rsplit("/", 1)[-1])
    raise _error(response, None)


def _error(response, kind):
    """The ChannelError for an Orange answer; `kind` forces the class (e.g. a second 401)."""
    body = http.json_body(response)
    status = response.status_code
    request_error = body.get("requestError") if isinstance(body.get("requestError"), dict) else {}
    exception_type, exception = next(
        ((name, request_error[name]) for name in ("serviceException", "policyException")
         if isinstance(request_error.get(name), dict)),
        (None, {}),
    )
    code = exception.get("messageId") or (f"{body['code']}" if "code" in body else f"http_{status}")
    if kind is None:
        if status == 429:
            kind = ErrorKind.THROTTLED
        elif exception_type == "policyException":
            kind = ErrorKind.ACCOUNT
        elif exception_type == "serviceException":
            kind = EXCEPTION_KINDS.get(code, ErrorKind.PERMANENT)
        elif status >= 500 or status == 408:
            kind = ErrorKind.RETRYABLE
        elif status in (401, 403, 404):
            # 404: the sender address in the configuration is not this account's.
            kind = ErrorKind.ACCOUNT
        else:
            kind = ErrorKind.PERMANENT
    retry_after = http.retry_after_seconds(response) if kind == ErrorKind.THROTTLED else None
    return ChannelError(kind, code, _text(body) or f"HTTP {status}", retry_after=retry_after)


def _text(body):
    """Orange's human text, with the `%1` placeholders filled from `variables`."""
    request_error = body.get("requestError")
    if isinstance(request_error, dict):
        for exception in request_error.values():
            if isinstance(exception, dict):
                text = str(exception.get("text") or "")
                for n, value in enumerate(exception.get("variables") or [], start=1):
                    text = text.replace(f"%{n}", str(value))
                return text
    parts = [body.get("message"), body.get("description"), body.get("error_description")]
    return ": ".join(str(p) for p in parts if p)
