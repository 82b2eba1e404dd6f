"""The same stub answers (StubServer.answer) served by one asyncio loop instead of a thread per
connection: HTTP/1.1 with keep-alive, request bodies by Content-Length. Benchmarks use it so
that the stub spends a fraction of the CPU of http.server (which parses each request's
headers with the email package) and never becomes what is measured.

    stub = serve_asyncio(OrangeStub())   # stub.url, stub.requests, stub.stop() as usual

A scripted answer with a delay (`delay_next`) is computed on a thread, so it holds up only
its own connection. A chunked request body is answered 411 (no client of ours sends one).
"""

import asyncio
import threading
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from tests.stubs.base import Recorded, _parse_body

MAX_HEADER_BYTES = 64 * 1024


def serve_asyncio(stub, host="127.0.0.1", port=0):
    """Starts `stub` on an asyncio server in a daemon thread; returns the stub."""
    front = _Front(stub)
    front.start(host, port)
    stub._server = front
    return stub


class _Front:
    """Looks like the socketserver that StubServer.url and StubServer.stop use."""

    def __init__(self, stub):
        self.stub = stub
        self.loop = None
        self.server = None
        self.server_address = None
        self._thread = None

    def start(self, host, port):
        ready = threading.Event()

        def run():
            self.loop = _new_loop()
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(
                asyncio.start_server(self._connection, host, port, backlog=512,
                                     limit=MAX_HEADER_BYTES))
            self.server_address = self.server.sockets[0].getsockname()[:2]
            ready.set()
            self.loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True, name=f"{self.stub.name}-asyncio")
        self._thread.start()
        ready.wait()

    def shutdown(self):
        async def close():
            self.server.close()  # open keep-alive connections end with the loop
            self.loop.stop()

        asyncio.run_coroutine_threadsafe(close(), self.loop)
        self._thread.join(timeout=5)

    def server_close(self):
        pass

    async def _connection(self, reader, writer):
        try:
            while await self._one_request(reader, writer):
                pass
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _one_request(self, reader, writer):
        """Answers one request; False when the connection is to be closed."""
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            writer.write(_response(411, b"", "text/plain", {}, close=True))
            await writer.drain()
            return False
        length = int(headers.get("content-length") or 0)
        body = await reader.readexactly(length) if length else b""
        parts = urlsplit(target)
        request = Recorded(
            method=method, raw_path=parts.path,
            query={k: v[-1] for k, v in parse_qs(parts.query).items()},
            headers=headers, body=body,
        )
        _parse_body(request)
        if self.stub._rules:  # scripted answers may sleep: not on the loop
            reply = await asyncio.get_running_loop().run_in_executor(None, self.stub.answer,
                                                                     request)
        else:
            reply = self.stub.answer(request)
        payload, content_type = reply.encoded()
        close = (headers.get("connection", "").lower() == "close"
                 or version.strip() != "HTTP/1.1")
        writer.write(_response(reply.status, payload, content_type, reply.headers, close=close))
        await writer.drain()
        return not close


def _response(status, payload, content_type, headers, *, close):
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    lines = [f"HTTP/1.1 {status} {phrase}", f"Content-Type: {content_type}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(payload)}")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload


def _new_loop():
    try:
        import uvloop  # installed with uvicorn[standard]
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()
