"""`manage.py serve` (what `make run` runs) on a fresh machine: SQLite and the embedded Redis,
a demo key that works, a worker that runs jobs, and a Ctrl-C that leaves nothing behind."""

import re
import secrets
import signal
import sqlite3
import stat

import psutil
import pytest
import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.processes import run_job, serving, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def served(tmp_path):
    yield from serving(tmp_path)


def websocket_close_code(server, path):
    """The server accepts the upgrade, then closes: unknown job."""
    url = f"ws://127.0.0.1:{server.port}{path}"
    with connect(url, open_timeout=10) as socket, pytest.raises(ConnectionClosed) as closed:
        socket.recv(timeout=10)
    return closed.value.rcvd.code


def test_serve_runs_web_worker_and_redis_and_stops_cleanly_on_ctrl_c(served):
    server = served()
    key = server.wait_for_key()

    assert requests.get(f"{server.url}/admin/login/", timeout=10).status_code == 200
    me = requests.get(f"{server.url}/api/me", headers={"Authorization": f"Bearer {key}"},
                      timeout=10)
    assert me.status_code == 200
    assert me.json()["program"]["slug"] == "demo"
    ticket = requests.post(f"{server.url}/api/ws-tickets",
                           headers={"Authorization": f"Bearer {key}"}, timeout=10).json()["ticket"]
    assert websocket_close_code(server, f"/ws/jobs/999999?ticket={ticket}") == 4404
    assert run_job(server.var_dir, "campaignid.health.ping") == "pong"
    # Two jobs in a row through the worker read the web process's SQLite file.
    for _ in range(2):
        assert run_job(server.var_dir, "campaignid.health.database") == {
            "vendor": "sqlite", "programs": ["demo"]}

    children = server.tree()
    assert len(children) >= 3  # uvicorn, an RQ worker (and its scheduler), redis-server
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=15) == 0
    _gone, alive = psutil.wait_procs(children, timeout=2)
    assert alive == []


def test_serve_revokes_the_previous_demo_key_at_each_start(served):
    first = served()
    old_key = first.wait_for_key()
    first.process.send_signal(signal.SIGTERM)
    assert first.process.wait(timeout=15) == 0

    second = served()
    new_key = second.wait_for_key()

    headers = {"X-API-Key": old_key}
    assert requests.get(f"{second.url}/api/me", headers=headers, timeout=10).status_code == 401
    headers = {"X-API-Key": new_key}
    assert requests.get(f"{second.url}/api/me", headers=headers, timeout=10).status_code == 200


def test_serve_stops_everything_and_fails_when_the_embedded_redis_dies(served):
    server = served()
    server.wait_for_key()
    children = server.tree()
    embedded_redis = next(p for p in children if "redis-server" in " ".join(p.cmdline()))

    embedded_redis.kill()

    assert server.process.wait(timeout=30) != 0
    _gone, alive = psutil.wait_procs(children, timeout=2)
    assert alive == []
    assert "redis exited with code -9 (SIGKILL); nothing works without it" in server.output


def test_demo_login_reaches_the_admin(served):
    server = served(DEMO_PASSWORD="another-pass-77")
    server.wait_for_key()
    session = requests.Session()
    login = f"{server.url}/admin/login/"
    session.get(login, timeout=10)
    response = session.post(
        login,
        data={"username": "demo", "password": "another-pass-77",
              "csrfmiddlewaretoken": session.cookies["csrftoken"], "next": "/admin/"},
        headers={"Referer": login},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.url.endswith("/admin/")
    assert "Programme démo" in session.get(f"{server.url}/admin/campaigns/program/",
                                           timeout=10).text


def test_make_run_says_it_is_in_laptop_mode_and_answers_only_local_names(served):
    server = served()
    server.wait_for_key()

    assert "Mode      laptop" in server.output
    assert requests.get(f"{server.url}/login/", timeout=10).status_code == 200
    foreign = requests.get(f"{server.url}/login/", headers={"Host": "cards.example.org"},
                           timeout=10)
    assert foreign.status_code == 400


def test_the_demo_password_is_random_made_once_and_readable_by_its_owner_only(served):
    first = served()
    first.wait_for_key()
    first.process.send_signal(signal.SIGTERM)
    assert first.process.wait(timeout=15) == 0
    second = served()
    second.wait_for_key()

    printed = [re.search(r"Log in\s+demo / (\S+)", s.output).group(1) for s in (first, second)]
    kept = second.var_dir / "demo_password"
    assert printed[0] == printed[1] == kept.read_text().strip()
    assert len(printed[0]) >= 16
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600


def test_serve_without_laptop_mode_makes_no_demo_login_or_key(served):
    server = served(CAMPAIGNID_LAPTOP="", SECRET_KEY=secrets.token_urlsafe(50),
                    ALLOWED_HOSTS="127.0.0.1", SECURE_SSL_REDIRECT="false")
    wait_until(lambda: "Press Ctrl-C" in server.output or server.process.poll() is not None,
               timeout=180, message="the banner")

    assert "Mode      production settings" in server.output
    assert "Log in" not in server.output and "API key" not in server.output
    assert requests.get(f"{server.url}/login/", timeout=10).status_code == 200
    with sqlite3.connect(server.var_dir / "db.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM auth_user").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM campaigns_apikey").fetchone() == (0,)
