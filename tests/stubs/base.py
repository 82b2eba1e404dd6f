"""A real HTTP server on 127.0.0.1 (ephemeral port) that providers' stubs build on.

Each stub answers like its provider (docs/providers.md), records every request it receives
(so a test can assert a message went out exactly once) and can be scripted per test:
`stub.delay_next(2.0)`, `stub.reply_next(Reply(...), times=3, match=...)`. HTTP/1.1 with
keep-alive and one thread per connection, so a benchmark can push hundreds of requests a second.
"""

import json
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Recorded:
    """One request as the stub received it."""

    method: str
    raw_path: str  # as sent, still URL-encoded, without the query string
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)  # url-encoded or multipart text fields
    # multipart files: field name -> (file name, content type, bytes)
    files: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)

    @property
    def path(self):
        return unquote(self.raw_path)


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes/str -> as is
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self):
        if isinstance(self.body, (dict, list)):
            return json.dumps(self.body).encode(), "application/json; charset=UTF-8"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return self.body or b"", "application/octet-stream"


@dataclass
class _Rule:
    match: Any  # callable(Recorded) -> bool
    action: Any  # Reply, or callable(Recorded) -> Reply | None
    times: int
    delay: float = 0.0


class StubServer:
    """Subclasses implement `route(request) -> Reply`."""

    name = "stub"

    def __init__(self):
        self.requests: list[Recorded] = []
        self._rules: deque[_Rule] = deque()
        self._lock = threading.Lock()
        self._server = None
        self._thread = None

    # --- lifecycle -----------------------------------------------------------------------
    def start(self):
        handler = type(f"{type(self).__name__}Handler", (_Handler,), {"stub": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self):
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- scripting -----------------------------------------------------------------------
    def reply_next(self, action, *, times=1, match=None, delay=0.0):
        """The next `times` requests matching `match` get `action` (a Reply or a function)."""
        with self._lock:
            self._rules.append(_Rule(match or (lambda r: True), action, times, delay))

    def delay_next(self, seconds, *, times=1, match=None):
        """The next `times` matching requests are answered normally, `seconds` late."""
        self.reply_next(None, times=times, match=match, delay=seconds)

    # --- inspection ----------------------------------------------------------------------
    def received(self, method=None, path_contains=""):
        with self._lock:
            return [
                r for r in self.requests
                if (method is None or r.method == method) and path_contains in r.path
            ]

    def reset(self):
        with self._lock:
            self.requests.clear()
            self._rules.clear()

    # --- answering -----------------------------------------------------------------------
    def route(self, request):
        raise NotImplementedError

    def answer(self, request):
        with self._lock:
            self.requests.append(request)
            rule = next((r for r in self._rules if r.match(request)), None)
            if rule is not None:
                rule.times -= 1
                if rule.times <= 0:
                    self._rules.remove(rule)
        if rule is not None and rule.delay:
            time.sleep(rule.delay)
        reply = None
        if rule is not None and rule.action is not None:
            reply = rule.action(request) if callable(rule.action) else rule.action
        return reply or self.route(request)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default backlog of 5 resets bursts of connections
    block_on_close = False  # a scripted slow answer must not hold up stop()

    def handle_error(self, request, client_address):
        # A client that hung up (it timed out, or the test ended) is part of the script.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one write, without Nagle: no 40 ms delayed-ACK stall per answer.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    stub: StubServer = None

    def do_GET(self):
        self._serve()

    def do_POST(self):
        self._serve()

    def do_PUT(self):
        self._serve()

    def do_PATCH(self):
        self._serve()

    def do_DELETE(self):
        self._serve()

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Recorded(
            method=self.command,
            raw_path=parts.path,
            query={k: v[-1] for k, v in parse_qs(parts.query).items()},
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        _parse_body(request)
        reply = self.stub.answer(request)
        payload, content_type = reply.encoded()
        try:
            self.send_response(reply.status)
            headers = {"Content-Type": content_type, **reply.headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up waiting (a scripted slow answer): nothing to answer to.
            self.close_connection = True

    def log_message(self, format, *args):
        pass


def _parse_body(request):
    content_type = request.headers.get("content-type", "")
    if not request.body:
        return
    if content_type.startswith("application/json"):
        try:
            request.json = json.loads(request.body)
        except ValueError:
            request.json = None
    elif content_type.startswith("application/x-www-form-urlencoded"):
        request.form = {k: v[-1] for k, v in parse_qs(request.body.decode()).items()}
    elif content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + request.body
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            data = part.get_payload(decode=True) or b""
            if filename:
                request.files[name] = (filename, part.get_content_type(), data)
            else:
                request.form[name] = data.decode()
