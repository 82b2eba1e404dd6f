"""`manage.py serve`, what `make run` calls: everything a laptop needs, in one process tree.

It migrates, makes sure the demo program and login exist, creates a fresh API key, then
runs the embedded Redis (when no REDIS_URL is set), the ASGI server (HTTP + WebSocket) and
the RQ workers as child processes. Ctrl-C or SIGTERM stops them all, web first and Redis
last; if one of them dies, the others are stopped and the command exits non-zero.

Production runs the same pieces under its own supervisor (uvicorn and `manage.py rqworker`
processes against a shared PostgreSQL and Redis); see README.md.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time

import psutil
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections, transaction

from campaignid import redis_server
from campaigns.models import ApiKey, Program, Role
from campaigns.services import api_key_create, api_key_revoke, membership_set, program_create

DEMO_SLUG = "demo"
DEMO_NAME = "Programme démo"
DEMO_QUOTA = 1_000_000
DEMO_USERNAME = "demo"
DEFAULT_DEMO_PASSWORD = "demo-pass-2026"
DEMO_KEY_NAME = "make run"
QUEUES = ("default", "cards", "dispatch", "dhis2")
# A worker asked to stop finishes its current chunk first; past this it is stopped cold
# (RQ puts the chunk back for the next start).
STOP_GRACE_SECONDS = 10
READY_TIMEOUT_SECONDS = 60


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
            demo = None if options["no_demo"] else ensure_demo()
            # The children open their own connections; the supervisor needs none meanwhile.
            connections.close_all()
            if self.stop_signal is not None:
                return

            env = _child_env(url)
            children.append(("web", _spawn(_web_command(host, port), env)))
            for n in range(1, worker_count + 1):
                children.append((f"worker-{n}", _spawn(_worker_command(), env)))
            if redis_process is not None:
                children.append(("redis", redis_process))

            exit_code = self._wait_until_listening(host, port, children)
            if exit_code == 0 and self.stop_signal is None:
                self._print_banner(url, demo, worker_count)
                exit_code = self._supervise(children)
        finally:
            # Redis goes last: workers finishing their job still write to it.
            self._stop([(n, p) for n, p in children if p is not redis_process])
            if redis_process is not None:
                self._stop([("redis", redis_process)], grace=5)
        if exit_code:
            sys.exit(exit_code)

    def _on_signal(self, signum, frame):
        if self.stop_signal is not None:
            self.stderr.write("Stopping now.")
            self.hurry = True
        self.stop_signal = signum

    def _wait_until_listening(self, host, port, children):
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline and self.stop_signal is None:
            dead = _first_dead(children)
            if dead:
                return self._report_death(*dead)
            with socket.socket(_family(host)) as probe:
                probe.settimeout(0.5)
                if probe.connect_ex((_loopback_for(host), port)) == 0:
                    return 0
            time.sleep(0.1)
        if self.stop_signal is None:
            self.stderr.write(f"The web server did not listen on port {port} in time.")
            return 1
        return 0

    def _supervise(self, children):
        while self.stop_signal is None:
            dead = _first_dead(children)
            if dead:
                return self._report_death(*dead)
            time.sleep(0.2)
        self.stdout.write("Stopping…")
        self.stdout.flush()
        return 0

    def _report_death(self, name, process):
        self.stderr.write(f"{name} exited with code {process.returncode}; stopping everything.")
        return 1

    def _stop(self, children, grace=STOP_GRACE_SECONDS):
        """SIGTERM (a warm stop: a worker finishes its job), then SIGTERM again (RQ's cold
        stop), then SIGKILL; every process the children started goes too (RQ's scheduler)."""
        family = [p for _name, process in children for p in _descendants(process.pid)]
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
        lines = ["", "CampaignID is running.", f"  Open      {url}/", f"  Admin     {url}/admin/"]
        if demo is not None:
            user, password, raw_key = demo
            if user is not None:
                lines.append(f"  Log in    {user} / {password}")
            else:
                lines.append("  Log in    (no demo login: DEBUG is off; set DEMO_PASSWORD)")
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
    """The demo program (created once), its login (password reset at each start so the one
    printed works) and a new API key; returns (username or None, password, raw key)."""
    password = os.environ.get("DEMO_PASSWORD") or (DEFAULT_DEMO_PASSWORD if settings.DEBUG else "")
    with transaction.atomic():
        program = Program.objects.filter(slug=DEMO_SLUG).first() or program_create(
            slug=DEMO_SLUG, name=DEMO_NAME, quota=DEMO_QUOTA
        )
        username = None
        # Never a well-known password on a server that is not in DEBUG mode.
        if password:
            user, _created = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
            user.is_staff = user.is_superuser = user.is_active = True
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
    return [sys.executable, manage, "rqworker", *QUEUES, "--with-scheduler"]


def _spawn(command, env):
    # Own session: the terminal's Ctrl-C reaches only this supervisor, which stops the
    # children in order (a second signal would make RQ drop its job at once).
    return subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, start_new_session=True)


def _first_dead(children):
    for name, process in children:
        if process.poll() is not None:
            return name, process
    return None


def _descendants(pid):
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _send(process, sig):
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(sig)
