"""The Orange SMS stub (tests/stubs/orange.py, unchanged answers) in a process of its own, on
the asyncio front, for bench/dispatch.py: the stub's CPU is then neither the bench's nor a
worker's, and the time of every SMS request it accepts is its own log.

Prints one JSON line, {"url", "config"}; then reads commands on stdin, one a line:
`times` prints the JSON list of the arrival times (time.time()) of every send request so far,
`quit` (or end of input) stops.
"""

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.stubs.asyncio_front import serve_asyncio
from tests.stubs.orange import OrangeStub, _is_send


class TimedOrangeStub(OrangeStub):
    def __init__(self):
        super().__init__()
        self.send_times = []

    def answer(self, request):
        if request.method == "POST" and _is_send(request):
            self.send_times.append(time.time())
        reply = super().answer(request)
        # The bench keeps the times, not every request: 20,000 bodies are memory for nothing.
        with self._lock:
            self.requests.clear()
        with self._store_lock:
            self.sent.clear()
            self.request_ids.clear()
        return reply


def main():
    stub = serve_asyncio(TimedOrangeStub())
    print(json.dumps({"url": stub.url, "config": stub.config()}), flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "times":
            print(json.dumps(list(stub.send_times)), flush=True)
        elif command == "quit":
            break
    stub.stop()


if __name__ == "__main__":
    main()
