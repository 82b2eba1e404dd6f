"""WhatsApp Business Cloud API (Graph API v25.0) as docs/providers.md describes it.

Checks what Meta checks (token, phone number id, request shape, media ids, approved templates,
the 24-hour window) and answers with Meta's success and error bodies.
"""

import re
import secrets
import threading

from tests.stubs.base import Reply, StubServer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# code: (HTTP status, message, details)
ERRORS = {
    4: (400, "(#4) Application request limit reached", "Application request limit reached"),
    80007: (400, "(#80007) Rate limit issues", "The business account reached its rate limit"),
    130429: (400, "(#130429) Rate limit hit", "Cloud API message throughput has been reached."),
    131056: (400, "(#131056) (Business Account, Consumer Account) pair rate limit hit",
             "Too many messages sent from this phone number to the same phone number"),
    131000: (500, "(#131000) Something went wrong", "Something went wrong"),
    131016: (503, "(#131016) Service unavailable", "A service is temporarily unavailable."),
    131047: (400, "(#131047) Re-engagement message",
             "Message failed to send because more than 24 hours have passed since the customer "
             "last replied to this number."),
    131026: (400, "(#131026) Message undeliverable", "Message Undeliverable."),
    100: (400, "(#100) Invalid parameter", "Invalid parameter"),
    131051: (400, "(#131051) Unsupported message type", "Message type is not currently supported."),
    132000: (400, "(#132000) Number of parameters does not match the expected number of params",
             "body: number of localizable_params does not match the expected number of params"),
    132001: (400, "(#132001) Template name does not exist in the translation",
             "template name does not exist in the translation"),
    131008: (400, "(#131008) Required parameter is missing", "Required parameter is missing"),
    131009: (400, "(#131009) Parameter value is not valid", "Parameter value is not valid"),
    131053: (400, "(#131053) Media upload error", "Unsupported or unknown media id"),
    190: (401, "Error validating access token: Session has expired.", ""),
    368: (403, "(#368) Temporarily blocked for policies violations", ""),
    131031: (403, "(#131031) Business Account locked", "The account has been locked"),
}


def meta_error(code, *, status=None, message=None, details=None):
    default_status, default_message, default_details = ERRORS.get(
        code, (400, f"(#{code}) Error", "")
    )
    error = {
        "message": message or default_message,
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp",
                       "details": default_details if details is None else details},
        "fbtrace_id": "A" + secrets.token_hex(10),
    }
    if code == 190:
        error["error_subcode"] = 463
    return Reply(status or default_status, {"error": error})


class WhatsAppStub(StubServer):
    name = "whatsapp"
    version = "v25.0"

    def __init__(self):
        super().__init__()
        self.phone_number_id = "106540352242922"
        self.access_token = "EAAGstub" + secrets.token_hex(16)
        # name: (languages, number of body parameters, header type or None)
        self.templates = {"card_ready": ({"fr", "en", "wo"}, 1, "image")}
        self.outside_window = set()  # wa ids (digits) who have not written in 24 h
        self.not_on_whatsapp = set()
        self.media = {}  # media id: PNG bytes
        self.sent = []  # the accepted /messages payloads
        self._store_lock = threading.Lock()

    @property
    def base_url(self):
        return f"{self.url}/{self.version}"

    def config(self, **overrides):
        return {
            "phone_number_id": self.phone_number_id,
            "access_token": self.access_token,
            "app_secret": "app-secret-" + "x" * 16,
            "verify_token": "verify-" + "y" * 12,
            "template_name": "card_ready",
            "template_language": "fr",
            **overrides,
        }

    # --- scripting -----------------------------------------------------------------------
    def fail_next(self, code, *, times=1, on="messages", status=None, message=None, details=None):
        self.reply_next(
            meta_error(code, status=status, message=message, details=details),
            times=times, match=lambda r: r.path.endswith(f"/{on}"),
        )

    def throttle_next(self, n=1, *, code=130429, retry_after=None):
        reply = meta_error(code)
        if retry_after is not None:
            reply.headers["Retry-After"] = str(retry_after)
        self.reply_next(reply, times=n, match=lambda r: r.path.endswith("/messages"))

    def message_requests(self):
        return self.received("POST", "/messages")

    # --- answering -----------------------------------------------------------------------
    def route(self, request):
        if request.headers.get("authorization") != f"Bearer {self.access_token}":
            return meta_error(190)
        match = re.fullmatch(rf"/{self.version}/(\w+)(/media|/messages)?", request.path)
        if not match:
            return Reply(404, {"error": {"message": "Unknown path components", "type":
                                         "OAuthException", "code": 2500}})
        if match.group(1) != self.phone_number_id:
            return meta_error(100, message=f"Unsupported post request. Object with ID "
                                           f"'{match.group(1)}' does not exist", details="")
        edge = match.group(2)
        if edge is None and request.method == "GET":
            return Reply(200, {"verified_name": "Programme Sante", "quality_rating": "GREEN",
                               "display_phone_number": "+221 33 800 00 00",
                               "id": self.phone_number_id})
        if edge == "/media" and request.method == "POST":
            return self._upload(request)
        if edge == "/messages" and request.method == "POST":
            return self._message(request)
        return meta_error(100, details="Unsupported method")

    def _upload(self, request):
        file = request.files.get("file")
        if request.form.get("messaging_product") != "whatsapp":
            return meta_error(100, details="messaging_product is required")
        if request.form.get("type") != "image/png" or not file:
            return meta_error(100, details="type and file are required")
        if file[1] != "image/png" or not file[2].startswith(PNG_SIGNATURE):
            return meta_error(131053, details="The file is not a PNG image")
        media_id = str(10**15 + len(self.media) + secrets.randbelow(10**9))
        with self._store_lock:
            self.media[media_id] = file[2]
        return Reply(200, {"id": media_id})

    def _message(self, request):
        body = request.json
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
            return meta_error(100, details="messaging_product must be whatsapp")
        to = body.get("to", "")
        if not re.fullmatch(r"\d{8,15}", str(to)):
            return meta_error(100, details="to must be the E.164 digits without +")
        kind = body.get("type")
        content = body.get(kind) if kind else None
        if kind not in ("image", "text", "template") or not isinstance(content, dict):
            return meta_error(131051)
        problem = getattr(self, f"_check_{kind}")(content)
        if problem:
            return problem
        if to in self.not_on_whatsapp:
            return meta_error(131026)
        if kind != "template" and to in self.outside_window:
            return meta_error(131047)
        with self._store_lock:
            self.sent.append(body)
        return Reply(200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": "wamid.HBgM" + secrets.token_hex(18).upper()}],
        })

    def _check_image(self, image):
        if "link" in image:
            return None
        if image.get("id") not in self.media:
            return meta_error(131053)
        return None

    def _check_text(self, text):
        if not text.get("body"):
            return meta_error(131008, details="text.body is required")
        return None

    def _check_template(self, template):
        name, language = template.get("name"), (template.get("language") or {}).get("code")
        if name not in self.templates or language not in self.templates[name][0]:
            return meta_error(132001)
        _, body_params, header = self.templates[name]
        components = {c.get("type"): c for c in template.get("components") or []}
        if header == "image":
            parameters = (components.get("header") or {}).get("parameters") or []
            if len(parameters) != 1 or parameters[0].get("type") != "image":
                return meta_error(132000, details="header: an image parameter is expected")
            if (parameters[0].get("image") or {}).get("id") not in self.media:
                return meta_error(131053)
        given = (components.get("body") or {}).get("parameters") or []
        if len(given) != body_params or any(p.get("type") != "text" for p in given):
            return meta_error(132000)
        return None
