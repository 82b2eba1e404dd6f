"""Orange SMS API (Middle East & Africa) as docs/providers.md describes it.

OAuth2 client credentials at /oauth/v3/token, SMS at
/smsmessaging/v1/outbound/{urlencoded sender}/requests; an expired token answers 401 code 42.
"""

import base64
import re
import secrets
import threading
import time
from urllib.parse import quote

from tests.stubs.base import Reply, StubServer


def request_error(message_id, *, status=400, text=None, variables=()):
    kind = "policyException" if message_id.startswith("POL") else "serviceException"
    texts = {
        "SVC0001": "A service error occurred. Error code is %1",
        "SVC0002": "Invalid input value for message part %1",
        "SVC0004": "No valid addresses provided in message part %1",
        "POL0001": "A policy error occurred. For example, rate limit error, authorization "
                   "error. These are some examples of typical errors you might see: %1",
    }
    return Reply(status, {"requestError": {kind: {
        "messageId": message_id,
        "text": text or texts.get(message_id, "Error %1"),
        "variables": list(variables),
    }}})


def oauth_error(code, message, description, *, status=401):
    return Reply(status, {"code": code, "message": message, "description": description})


EXPIRED = oauth_error(42, "Expired credentials",
                      "The requested service needs credentials, and the ones provided were "
                      "out-of-date.")
INVALID = oauth_error(41, "Invalid credentials",
                      "The requested service needs credentials, but the ones provided were "
                      "invalid.")


class OrangeStub(StubServer):
    name = "orange"

    def __init__(self):
        super().__init__()
        self.client_id = "orange-client-" + secrets.token_hex(4)
        self.client_secret = "orange-secret-" + secrets.token_hex(8)
        self.sender_address = "tel:+2210000"
        self.expires_in = 3600
        self.tokens = {}  # token: expiry (time.monotonic)
        self.sent = []  # accepted outboundSMSMessageRequest bodies
        self.request_ids = []  # the id at the end of each accepted SMS's resourceURL
        self._store_lock = threading.Lock()

    def config(self, **overrides):
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "sender_address": self.sender_address,
            "sender_name": "SANTE-SN",
            **overrides,
        }

    # --- scripting -----------------------------------------------------------------------
    def expire_tokens(self):
        """Every token issued so far is now out of date (the next use answers 401 code 42)."""
        with self._store_lock:
            for token in self.tokens:
                self.tokens[token] = 0.0

    def fail_next(self, message_id, *, status=400, times=1, variables=()):
        self.reply_next(request_error(message_id, status=status, variables=variables),
                        times=times, match=_is_send)

    def throttle_next(self, n=1, *, retry_after=None):
        reply = oauth_error(53, "Too many requests",
                            "The application has made too many calls and has exceeded the "
                            "rate limit for this service.", status=429)
        if retry_after is not None:
            reply.headers["Retry-After"] = str(retry_after)
        self.reply_next(reply, times=n, match=_is_send)

    def token_requests(self):
        return self.received("POST", "/oauth/v3/token")

    def send_requests(self):
        return [r for r in self.requests if _is_send(r)]

    # --- answering -----------------------------------------------------------------------
    def route(self, request):
        if request.method == "POST" and request.path == "/oauth/v3/token":
            return self._token(request)
        if request.method == "GET" and request.path == "/sms/admin/v1/contracts":
            return self._authorized(request) or Reply(200, [
                {"id": "c1", "country": "SEN", "offerName": "SMS_OCB", "availableUnits": 980,
                 "status": "ACTIVE"}
            ])
        if request.method == "POST" and _is_send(request):
            return self._authorized(request) or self._send(request)
        return Reply(404, {"code": 60, "message": "Resource not found",
                           "description": "The requested URI or the requested resource does "
                                          "not exist."})

    def _token(self, request):
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return Reply(401, {"error": "invalid_client",
                               "error_description": "The requested service needs credentials, "
                                                    "but the ones provided were invalid."})
        if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ) or request.form.get("grant_type") != "client_credentials":
            return Reply(400, {"error": "unsupported_grant_type",
                               "error_description": "grant_type must be client_credentials"})
        token = secrets.token_urlsafe(24)
        with self._store_lock:
            self.tokens[token] = time.monotonic() + self.expires_in
        return Reply(200, {"token_type": "Bearer", "access_token": token,
                           "expires_in": self.expires_in})

    def _authorized(self, request):
        """None when the bearer token is good, else Orange's 401."""
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ") if header.startswith("Bearer ") else None
        with self._store_lock:
            expiry = self.tokens.get(token)
        if expiry is None:
            return INVALID
        if expiry <= time.monotonic():
            return EXPIRED
        return None

    def _send(self, request):
        encoded = request.raw_path.split("/")[4]
        body = request.json if isinstance(request.json, dict) else {}
        message = body.get("outboundSMSMessageRequest")
        if not isinstance(message, dict):
            return request_error("SVC0002", variables=["outboundSMSMessageRequest"])
        sender = message.get("senderAddress")
        if encoded != quote(str(sender), safe="") or sender != self.sender_address:
            return request_error("SVC0002", variables=["senderAddress"])
        if not re.fullmatch(r"tel:\+\d{8,15}", str(message.get("address", ""))):
            return request_error("SVC0004", variables=["address"])
        name = message.get("senderName")
        if name is not None and not re.fullmatch(r"[A-Za-z0-9-]{1,11}", str(name)):
            return request_error("POL0001", status=403, variables=["Invalid senderName"])
        text = (message.get("outboundSMSTextMessage") or {}).get("message")
        if not text:
            return request_error("SVC0002", variables=["outboundSMSTextMessage"])
        request_id = secrets.token_hex(12)
        with self._store_lock:
            self.sent.append(message)
            self.request_ids.append(request_id)
        resource = f"{self.url}/smsmessaging/v1/outbound/{encoded}/requests/{request_id}"
        return Reply(201, {"outboundSMSMessageRequest": {**message, "resourceURL": resource}},
                     headers={"Location": resource})


def _is_send(request):
    return request.path.startswith("/smsmessaging/v1/outbound/") and request.path.endswith(
        "/requests"
    )
