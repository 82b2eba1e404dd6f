"""`manage.py serve` (what `make run` runs) supervises like a process manager: a worker killed
mid-job (as the out-of-memory killer does) or a killed web server comes back while the rest
keeps serving, and the job still ends with every card once and one charge; a worker that
dies at once on every start ends `serve` with a reason and a non-zero exit."""

import json
import os
import re
import signal
import sqlite3
import threading
import time

import psutil
import pytest
import redis
import requests
from rq import Worker
from rq.job import Job as RqJob

from tests.processes import serving, wait_until

pytestmark = pytest.mark.slow

# 2 shared cores: enough chunks of 100 to kill one worker mid-job and still finish in minutes.
CARDS = 2000


@pytest.fixture
def served(tmp_path):
    yield from serving(tmp_path)


class Api:
    def __init__(self, server, key):
        self.url, self.headers = server.url, {"X-API-Key": key}

    def get(self, path):
        response = requests.get(self.url + path, headers=self.headers, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path, body):
        response = requests.post(self.url + path, json=body, headers=self.headers, timeout=120)
        assert response.status_code in (201, 202), response.text
        return response.json()


class HealthWatch(threading.Thread):
    """Asks /health four times a second until stopped; keeps every answer."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.url, self.answers, self.failures = f"{server.url}/health", [], []
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.wait(0.25):
            try:
                response = requests.get(self.url, timeout=5)
                response.raise_for_status()
                self.answers.append(response.json())
            except requests.RequestException as exc:
                self.failures.append(repr(exc))

    def alive_counts(self):
        return [answer["workers"]["alive"] for answer in self.answers]


def alive_workers(server):
    return requests.get(f"{server.url}/health", timeout=5).json()["workers"]["alive"]


def start_job(api, cards):
    campaign = api.post("/api/campaigns", {"name": "Polio Kaolack", "campaign_type": "vaccination",
                                           "prefix": "KLK-VAC"})
    rows = [{"external_id": f"K{i:06d}", "first_name": f"Fatou{i}", "last_name": "Diop",
             "date_of_birth": "2018-03-04", "sex": "F"} for i in range(cards)]
    api.post(f"/api/campaigns/{campaign['id']}/beneficiaries", {"beneficiaries": rows})
    return api.post(f"/api/campaigns/{campaign['id']}/jobs", {})["id"]


def rq_connection(server):
    return redis.Redis(unix_socket_path=str(server.var_dir / "redis.sock"))


def worker_rendering_a_chunk(server, job_id):
    """The pid of a worker in the middle of one of the job's chunks: its task names the chunk
    and the chunk is not counted yet (a chunk renders in about a second; a worker still
    naming a chunk it has counted is not in the middle of it)."""
    db = sqlite3.connect(server.var_dir / "db.sqlite3")
    try:
        for worker in Worker.all(connection=rq_connection(server)):
            task = worker.get_current_job_id() or ""
            if not task.startswith(f"job{job_id}-chunk"):
                continue
            unfinished = db.execute(
                'SELECT 1 FROM campaigns_jobchunk WHERE job_id = ? AND "index" = ? '
                "AND finished_at IS NULL", (job_id, int(task.rsplit("chunk", 1)[1])),
            ).fetchone()
            if unfinished:
                return worker.pid
    finally:
        db.close()
    return None


def test_a_worker_killed_mid_job_comes_back_and_the_job_completes_once(served):
    server = served(WORKERS="2")
    api = Api(server, server.wait_for_key())
    wait_until(lambda: alive_workers(server) == 2, timeout=60, message="two workers")
    balance = api.get("/api/me")["quota_balance"]
    watch = HealthWatch(server)
    watch.start()
    job_id = start_job(api, CARDS)
    wait_until(lambda: api.get(f"/api/jobs/{job_id}")["cards_generated"] > 0, timeout=300,
               message="a first chunk")
    victim = wait_until(lambda: worker_rendering_a_chunk(server, job_id), timeout=60,
                        message="a worker rendering a chunk")

    os.kill(victim, signal.SIGKILL)
    killed_at = time.monotonic()
    death = wait_until(lambda: re.search(
        r"(worker-\d) exited with code -9 \(SIGKILL\); restarting it in 1 s", server.output),
        timeout=30, message="the death line")
    wait_until(lambda: f"{death.group(1)} restarted (pid" in server.output, timeout=30,
               message="the restart line")
    wait_until(lambda: alive_workers(server) == 2, timeout=30, message="two workers again")
    back_after = time.monotonic() - killed_at
    job = wait_until(lambda: (job := api.get(f"/api/jobs/{job_id}"))["status"] in (
        "completed", "failed") and job, timeout=600, message="the job to end")
    done_after = time.monotonic() - killed_at
    watch.stopped.set()
    watch.join()
    print(f"workers back after {back_after:.1f} s; job done {done_after:.1f} s after the kill")

    assert watch.failures == []  # the web server answered throughout
    assert 1 in watch.alive_counts()  # /health showed the worker gone, then back
    assert job["status"] == "completed", job["error"]
    connection = rq_connection(server)
    chunks = [RqJob.fetch(key.decode().removeprefix("rq:job:"), connection=connection)
              for key in connection.keys(f"rq:job:job{job_id}-chunk*")]
    assert [c.retries_left for c in chunks].count(2) == 1  # the killed chunk, run again
    assert job["cards_generated"] == CARDS
    db = sqlite3.connect(server.var_dir / "db.sqlite3")
    cards = db.execute("SELECT code, beneficiary_id FROM cards_card WHERE job_id = ?",
                       (job_id,)).fetchall()
    assert len(cards) == CARDS
    assert len({beneficiary for _code, beneficiary in cards}) == CARDS
    manifest = requests.get(f"{server.url}/api/jobs/{job_id}/download/manifest",
                            headers=api.headers, timeout=30)
    codes = [card["code"] for card in json.loads(manifest.content)["cards"]]
    assert sorted(codes) == sorted(code for code, _beneficiary in cards)
    ledger = db.execute("SELECT kind, units FROM campaigns_quotatransaction WHERE job_id = ?",
                        (job_id,)).fetchall()
    assert ledger == [("debit", -CARDS)]
    assert api.get("/api/me")["quota_balance"] == balance - CARDS


def test_a_killed_web_server_is_restarted_on_the_same_port(served):
    server = served()
    server.wait_for_key()
    web = next(p for p in server.tree() if "uvicorn" in " ".join(p.cmdline()))

    web.kill()

    wait_until(lambda: "web exited with code -9 (SIGKILL); restarting it in 1 s" in server.output,
               timeout=10, message="the death line")
    answer = wait_until(lambda: _health_or_none(server), timeout=30, message="the web again")
    assert answer["status"] == "ok"
    assert server.process.poll() is None
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=30) == 0


def _health_or_none(server):
    try:
        return requests.get(f"{server.url}/health", timeout=5).json()
    except requests.RequestException:
        return None


def test_a_worker_that_dies_at_every_start_stops_serve_with_a_reason(served):
    server = served(SERVE_WORKER_CLASS="campaignid.no_such_module.Worker")
    server.wait_for_key()
    children = server.tree()

    assert server.process.wait(timeout=120) != 0
    assert "worker-1 exited with code 1: 5 deaths within 60 s, it does not stay up" in (
        server.output)
    for delay in (1, 2, 4, 8):
        assert f"worker-1 exited with code 1; restarting it in {delay} s." in server.output
    _gone, alive = psutil.wait_procs(children, timeout=5)
    assert alive == []
