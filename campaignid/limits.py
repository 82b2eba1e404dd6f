"""Request bodies capped before they are read.

Django's ASGI handler reads a whole body (spooled to disk) before any middleware or view runs,
so the cap sits in front of it, in `BodyLimit` (campaignid/asgi.py): a declared
Content-Length above the path's limit answers 413 at once; a chunked body is counted as it
arrives and cut (413) as soon as it passes the limit. Provider webhooks get
WEBHOOK_MAX_BYTES, everything else REQUEST_MAX_BYTES (an import plus its envelope).

Views check again with `body_over_limit` (the test client and any WSGI server skip the ASGI
layer), reading at most limit + 1 bytes of a body without Content-Length.
"""

import json

from django.conf import settings
from django.utils.translation import gettext as _

WEBHOOK_PREFIX = "/webhooks/"


def size_text(size):
    """1048576 -> "1 MB", 1536 -> "1.5 KB": a limit as people read it."""
    for unit, factor in ((_("MB"), 1024 * 1024), (_("KB"), 1024)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return _("%(count)s bytes") % {"count": size}


def limit_for_path(path):
    if path.startswith(WEBHOOK_PREFIX):
        return settings.WEBHOOK_MAX_BYTES
    return settings.REQUEST_MAX_BYTES


def body_over_limit(request, limit):
    """The body (bytes) when it is at most `limit`; None when it is larger, having read no
    more than limit + 1 bytes of it."""
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and int(declared) > limit:
        return None
    # A declared length is at most `limit` here; without one, read one byte past it.
    body = request.body if declared.isdigit() else request.read(limit + 1)
    return body if len(body) <= limit else None


class BodyLimit:
    """ASGI middleware: 413 for a body larger than its path's limit, before Django reads it."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = limit_for_path(scope.get("path", ""))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            return await _too_large(scope, send, limit)
        received = 0
        over = False

        async def counted_receive():
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Django stops reading at a disconnect and answers nothing: we do.
                    over = True
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, counted_receive, send)
        if over:
            await _too_large(scope, send, limit)


def _content_length(scope):
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _too_large(scope, send, limit):
    message = f"The request body is larger than {size_text(limit)}."
    if scope.get("path", "").startswith("/api/"):
        body, content_type = json.dumps({"error": message}).encode(), b"application/json"
    else:
        body, content_type = message.encode(), b"text/plain; charset=utf-8"
    await send({
        "type": "http.response.start", "status": 413,
        "headers": [(b"content-type", content_type),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close")],
    })
    await send({"type": "http.response.body", "body": body})
