"""Real processes for tests: RQ workers and the ASGI server, started against the test
database, the test Redis and the test's media root."""

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import psutil
import redis
from django.conf import settings
from django.db import connection
from rq import Queue

ROOT = Path(__file__).resolve().parent.parent


def test_database_url():
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def child_env(**extra):
    env = dict(os.environ)
    env.update(
        DATABASE_URL=test_database_url(),
        REDIS_URL=settings.REDIS_URL,
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        PUBLIC_BASE_URL=settings.PUBLIC_BASE_URL,
        SECRET_KEY=settings.SECRET_KEY,
        DJANGO_SETTINGS_MODULE="campaignid.settings",
        PYTHONUNBUFFERED="1",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start_worker(*queues, log_path=None, env=None):
    """An `rqworker` process in its own process group (so a SIGKILL takes all of it); `env`
    adds to or overrides its environment (its own MEDIA_ROOT, SCRATCH_DIR...)."""
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "manage.py", "rqworker", *(queues or ("cards",))],
        cwd=ROOT, env=child_env(**(env or {})), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def kill_hard(process):
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def stop(process, timeout=15):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_hard(process)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def asgi_server(*, log_path=None, log_level="warning"):
    """uvicorn serving campaignid.asgi on a free port; yields its base URL (host:port).
    `log_path` collects its stdout and stderr (`log_level="info"`: the access log too)."""
    port = free_port()
    log = open(log_path, "ab") if log_path else None  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "campaignid.asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", log_level],
        cwd=ROOT, env=child_env(), start_new_session=True,
        stdout=log, stderr=subprocess.STDOUT if log else None,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if process.poll() is not None:
                raise RuntimeError("the ASGI server exited at start")
            time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        stop(process)
        if log:
            log.close()


def wait_until(predicate, *, timeout, interval=0.2, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


SERVE_START_TIMEOUT = 180


class Served:
    """A `manage.py serve` process (what `make run` runs) on its own SQLite file, embedded
    Redis and free port, whose output is collected line by line."""

    def __init__(self, var_dir, **env):
        self.var_dir = var_dir
        self.port = free_port()
        child_env = {k: v for k, v in os.environ.items()
                     if k not in ("DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL", "MEDIA_ROOT")}
        # What `make run` sets: laptop mode, its own secret key and host names.
        for name in ("SECRET_KEY", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT"):
            child_env.pop(name, None)
        child_env.update(CAMPAIGNID_LAPTOP="1", VAR_DIR=str(var_dir), PORT=str(self.port),
                         PYTHONUNBUFFERED="1")
        child_env.update(env)
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "serve"], cwd=ROOT, env=child_env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self):
        return "".join(self.lines)

    def api_key(self):
        match = re.search(r"API key\s+(cid_\S+)", self.output)
        return match and match.group(1)

    def wait_for_key(self):
        return wait_until(lambda: self.api_key() or self._exited(), timeout=SERVE_START_TIMEOUT,
                          message="the printed API key")

    def _exited(self):
        if self.process.poll() is not None:
            raise AssertionError(f"serve exited early:\n{self.output}")
        return None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def tree(self):
        return psutil.Process(self.process.pid).children(recursive=True)

    def kill_all(self):
        for process in [*self.tree(), psutil.Process(self.process.pid)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()


def serving(tmp_path):
    """For a fixture (`yield from serving(tmp_path)`): yields start(**env) -> Served; kills
    whatever still runs after the test."""
    started = []

    def start(**env):
        server = Served(tmp_path / "var", **env)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.process.poll() is None:
            server.kill_all()
            server.process.wait(timeout=10)


def run_job(var_dir, function):
    """Enqueues `function` (a dotted path) on the served instance's embedded Redis; returns
    what its worker's run returned."""
    connection = redis.Redis(unix_socket_path=str(var_dir / "redis.sock"))
    job = Queue("default", connection=connection).enqueue(function)
    wait_until(lambda: job.get_status(refresh=True) in ("finished", "failed"), timeout=60,
               message=f"the worker to run {function}")
    assert job.get_status() == "finished", job.latest_result()
    return job.return_value()
