"""`manage.py serve`, what `make run` calls: everything a laptop needs, in one process tree.

`make run` sets CAMPAIGNID_LAPTOP=1 (laptop mode, settings.LAPTOP): plain HTTP, local host
names only, a secret key and a demo password kept in var/. Without it `serve` runs the same
processes with the production settings and no demo at all.

It migrates, makes sure the demo program and login exist, creates a fresh API key, then
runs the embedded Redis (when no REDIS_URL is set), the ASGI server (HTTP + WebSocket) and
the RQ workers as child processes. Ctrl-C or SIGTERM stops them all, web first and Redis
last.

It supervises them like a process manager: a worker or the web server that dies is started
again, after 1 s, then 2, 4, 8 s while it keeps dying; a worker killed mid-chunk leaves the
chunk to be retried (RQ sees its heartbeat stop). Only the embedded Redis dying, or a process
dying 5 times within 60 s (MAX_DEATHS, RESTART_WINDOW_SECONDS), stops everything with a
non-zero exit and says why.

SERVE_WORKER_CLASS (dotted path) overrides settings.RQ["WORKER_CLASS"] for these workers
only; the tests point it at a class that does not exist to get a worker that dies at once.

Production runs the same pieces under its own supervisor (uvicorn and `manage.py rqworker`
processes against a shared PostgreSQL and Redis); see README.md.
"""

import collections
import contextlib
import functools
import os
import secrets
import signal
import socket
import subprocess
import sys
import time

import psutil
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections, transaction
from rq import Worker

from campaignid import redis_server
from campaigns.models import ApiKey, Program, Role
from campaigns.services import api_key_create, api_key_revoke, membership_set, program_create

DEMO_SLUG = "demo"
DEMO_NAME = "Programme démo"
DEMO_QUOTA = 1_000_000
DEMO_USERNAME = "demo"
DEMO_PASSWORD_FILE = "demo_password"
DEMO_KEY_NAME = "make run"
QUEUES = ("default", "cards", "dispatch", "dhis2")
# A worker asked to stop finishes its current chunk first; past this it is stopped cold
# (RQ puts the chunk back for the next start).
STOP_GRACE_SECONDS = 10
READY_TIMEOUT_SECONDS = 60
# A process that dies this often within the window is not going to stay up: give up.
MAX_DEATHS = 5
RESTART_WINDOW_SECONDS = 60
MAX_RESTART_DELAY_SECONDS = 30


class Child:
    """A supervised process: how to start it again and when it died lately. Without a
    command (the embedded Redis) it is never restarted."""

    def __init__(self, name, command=None, env=None, process=None):
        self.name, self.command, self.env, self.process = name, command, env, process
        self.deaths = collections.deque()
        self.restart_at = None

    def start(self):
        self.process = _spawn(self.command, self.env)
        self.restart_at = None

    def died(self, now):
        """Record a death; the delay before the next start (doubling), or None: give up."""
        self.deaths.append(now)
        while self.deaths[0] < now - RESTART_WINDOW_SECONDS:
            self.deaths.popleft()
        if self.command is None or len(self.deaths) >= MAX_DEATHS:
            return None
        return min(2 ** (len(self.deaths) - 1), MAX_RESTART_DELAY_SECONDS)


class Command(BaseCommand):
    help = (
        "Migrate, ensure the demo program/login/API key, then run the web server "
        "(HTTP + WebSocket), RQ workers and, without REDIS_URL, an embedded Redis."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-demo", action="store_true", help="skip the demo program, login and API key"
        )

    def handle(self, *args, **options):
        host = os.environ.get("HOST", "127.0.0.1")
        port = _int_env("PORT", 8000)
        worker_count = _int_env("WORKERS", 1)
        browser_host = _loopback_for(host)
        url = f"http://{f'[{browser_host}]' if ':' in browser_host else browser_host}:{port}"
        _refuse_busy_port(host, port)

        self.stop_signal = None
        self.hurry = False
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._on_signal)

        redis_process = None
        children = []
        exit_code = 0
        try:
            if settings.EMBEDDED_REDIS:
                redis_process = _start_embedded_redis()
            call_command("migrate", interactive=False, verbosity=options["verbosity"])
            # A demo login and admin key exist only on a laptop, never on a server.
            demo = None if options["no_demo"] or not settings.LAPTOP else ensure_demo()
            # The children open their own connections; the supervisor needs none meanwhile.
            connections.close_all()
            if self.stop_signal is not None:
                return

            env = _child_env(url)
            children.append(Child("web", _web_command(host, port), env))
            for n in range(1, worker_count + 1):
                children.append(Child(f"worker-{n}", _worker_command(), env))
            for child in children:
                child.start()
            if redis_process is not None:
                children.append(Child("redis", process=redis_process))

            banner = functools.partial(self._print_banner, url, demo, worker_count)
            exit_code = self._supervise(children, host, port, banner)
        finally:
            # Redis goes last: workers finishing their job still write to it.
            self._stop([(c.name, c.process) for c in children if c.process is not redis_process])
            if redis_process is not None:
                self._stop([("redis", redis_process)], grace=5)
        if exit_code:
            sys.exit(exit_code)

    def _on_signal(self, signum, frame):
        if self.stop_signal is not None:
            self.stderr.write("Stopping now.")
            self.hurry = True
        self.stop_signal = signum

    def _supervise(self, children, host, port, banner):
        """Until a stop signal: restart what dies, print the banner once the web server
        listens. Returns the exit code."""
        ready_by = time.monotonic() + READY_TIMEOUT_SECONDS
        while self.stop_signal is None:
            for child in children:
                if not self._tend(child):
                    return 1
            if banner is not None:
                if _listening(host, port):
                    banner()
                    banner = None
                elif time.monotonic() > ready_by:
                    self._say(f"The web server did not listen on port {port} in time.")
                    return 1
            time.sleep(0.2)
        self.stdout.write("Stopping…")
        self.stdout.flush()
        return 0

    def _tend(self, child):
        """Start a child whose delay is over; note a death. False: stop everything."""
        now = time.monotonic()
        if child.restart_at is not None:
            if now >= child.restart_at:
                child.start()
                self._say(f"{child.name} restarted (pid {child.process.pid}).")
            return True
        if child.process.poll() is None:
            return True
        # A killed worker leaves its scheduler process behind, and its RQ record claims it
        # alive for minutes (/health would count it).
        _kill_group(child.process)
        if child.name.startswith("worker"):
            _unregister_rq_worker(child.process.pid)
        delay = child.died(now)
        exited = f"{child.name} exited with code {_exit_status(child.process.returncode)}"
        if child.command is None:
            self._say(f"{exited}; nothing works without it, stopping everything.")
        elif delay is None:
            self._say(
                f"{exited}: {len(child.deaths)} deaths within {RESTART_WINDOW_SECONDS} s, it "
                "does not stay up (see its output above); stopping everything."
            )
        else:
            child.restart_at = now + delay
            self._say(f"{exited}; restarting it in {delay} s.")
            return True
        return False

    def _say(self, message):
        self.stderr.write(f"{time.strftime('%H:%M:%S')} {message}")
        self.stderr.flush()

    def _stop(self, children, grace=STOP_GRACE_SECONDS):
        """SIGTERM (a warm stop: a worker finishes its job), then SIGTERM again (RQ's cold
        stop), then SIGKILL; every process the children started goes too (RQ's scheduler)."""
        children = [(name, process) for name, process in children if process is not None]
        family = [p for _name, process in children if process.poll() is None
                  for p in _descendants(process.pid)]
        self._signal_and_wait(children, signal.SIGTERM, grace)
        if any(process.poll() is None for _name, process in children):
            time.sleep(1.1)  # RQ ignores a second signal within a second of the first
            self._signal_and_wait(children, signal.SIGTERM, 3)
        for _name, process in children:
            if process.poll() is None:
                family.extend(_descendants(process.pid))
                _send(process, signal.SIGKILL)
            process.wait()
        for leftover in family:
            with contextlib.suppress(psutil.NoSuchProcess):
                leftover.kill()

    def _signal_and_wait(self, children, sig, timeout):
        alive = [process for _name, process in children if process.poll() is None]
        for process in alive:
            _send(process, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.hurry:
            if all(process.poll() is not None for process in alive):
                return
            time.sleep(0.1)

    def _print_banner(self, url, demo, worker_count):
        mode = (
            "laptop (plain HTTP, this machine's host names only; not for a server)"
            if settings.LAPTOP
            else "production settings (CAMPAIGNID_LAPTOP unset; no demo)"
        )
        lines = ["", "CampaignID is running.", f"  Mode      {mode}", f"  Open      {url}/",
                 f"  Admin     {url}/admin/"]
        if demo is not None:
            user, password, raw_key = demo
            lines.append(f"  Log in    {user} / {password}")
            lines.append(f"  API key   {raw_key}")
            lines.append(
                f'            (program "{DEMO_SLUG}"; a new key at each start, the previous one '
                "is revoked)"
            )
        lines += [
            f"  API docs  {url}/api/docs/",
            f"  Workers   {worker_count} RQ worker(s) on queues {', '.join(QUEUES)}",
            f"  Redis     {'embedded, ' if settings.EMBEDDED_REDIS else ''}{settings.REDIS_URL}",
            f"  Database  {connections['default'].vendor}",
            "Press Ctrl-C to stop.",
            "",
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()


def ensure_demo():
    """The demo program (created once), its login and a new API key; returns (username,
    password, raw key). The password is DEMO_PASSWORD, else a random one made once and kept
    in var/demo_password; it is set again at each start so the one printed works."""
    password = os.environ.get("DEMO_PASSWORD") or _local_demo_password()
    with transaction.atomic():
        program = Program.objects.filter(slug=DEMO_SLUG).first() or program_create(
            slug=DEMO_SLUG, name=DEMO_NAME, quota=DEMO_QUOTA
        )
        user, _created = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
        user.is_staff = user.is_superuser = user.is_active = True
        if not user.check_password(password):
            user.set_password(password)
        user.save()
        membership_set(user=user, program=program, role=Role.ADMIN, can_view_sensitive=True)
        username = user.get_username()
        # A key is shown only once: each start revokes the last one and prints a new one.
        for old in ApiKey.objects.for_program(program).filter(
            name=DEMO_KEY_NAME, revoked_at__isnull=True
        ):
            api_key_revoke(api_key=old)
        _key, raw_key = api_key_create(program=program, name=DEMO_KEY_NAME)
    return username, password, raw_key


def _local_demo_password():
    """A random password, made at the first start and kept (readable by its owner only)."""
    path = settings.VAR_DIR / DEMO_PASSWORD_FILE
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(12))
    return path.read_text().strip()


def _int_env(name, default):
    value = os.environ.get(name, "")
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise CommandError(f"{name} must be a whole number, not {value!r}.") from None
    if number < 1:
        raise CommandError(f"{name} must be at least 1.")
    return number


def _family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _loopback_for(host):
    """Where this machine reaches a server listening on `host` (a wildcard is no address)."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104


def _refuse_busy_port(host, port):
    with socket.socket(_family(host)) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CommandError(
                f"Cannot listen on {host}:{port} ({exc.strerror}). Another server is running "
                f"there; stop it or choose another port, e.g. PORT={port + 1} make run."
            ) from None


def _start_embedded_redis():
    # The terminal sends Ctrl-C to every process in the foreground group; Redis must outlive
    # the workers' warm stop, so it starts with SIGINT blocked and is stopped by SIGTERM.
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        return redis_server.start(settings.VAR_DIR / "redis.sock")
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _child_env(url):
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "campaignid.settings")
    env["VAR_DIR"] = str(settings.VAR_DIR)
    # Card QR codes and links point at the port this server really listens on.
    env.setdefault("PUBLIC_BASE_URL", url)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _web_command(host, port):
    return [
        sys.executable, "-m", "uvicorn", "campaignid.asgi:application",
        "--host", host, "--port", str(port),
        "--ws", "auto",
        # Django's ASGI handler has no lifespan events; an open WebSocket must not hold a stop.
        "--lifespan", "off", "--timeout-graceful-shutdown", "5",
    ]


def _worker_command():
    manage = str(settings.BASE_DIR / "manage.py")
    worker_class = os.environ.get("SERVE_WORKER_CLASS")
    chosen = ["--worker-class", worker_class] if worker_class else []
    verbosity = ["--verbosity", _worker_verbosity()]
    return [sys.executable, manage, "rqworker", *QUEUES, "--with-scheduler", *verbosity, *chosen]


def _worker_verbosity():
    """RQ logs "cleaning registries" at INFO every few seconds, which scrolls the printed login
    and key away: workers log warnings only, unless LOG_LEVEL asks for INFO or DEBUG."""
    level = os.environ.get("LOG_LEVEL", "").upper()
    return {"DEBUG": "2", "INFO": "1"}.get(level, "0")


def _spawn(command, env):
    # Own session: the terminal's Ctrl-C reaches only this supervisor, which stops the
    # children in order (a second signal would make RQ drop its job at once).
    return subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, start_new_session=True)


def _listening(host, port):
    with socket.socket(_family(host)) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((_loopback_for(host), port)) == 0


def _exit_status(code):
    """-9 (SIGKILL): a negative code is the signal that ended the process."""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"{code} ({signal.Signals(-code).name})"
    return str(code)


def _kill_group(process):
    # Each child leads its own process group (start_new_session); what it started is there.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _unregister_rq_worker(pid):
    """What a worker does on a clean exit: drop its record, so /health counts it dead now."""
    try:
        connection = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
        for worker in Worker.all(connection=connection):
            if worker.pid == pid and worker.hostname == socket.gethostname():
                worker.register_death()
    except redis.RedisError:
        pass  # Redis itself is gone: that death is reported on its own


def _descendants(pid):
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _send(process, sig):
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(sig)
