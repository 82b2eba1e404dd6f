"""/health: the database and Redis answer, and the RQ workers that beat lately count as alive
(a killed worker's record lingers in Redis for minutes; it must not count)."""

import datetime

import django_rq
import pytest
from rq import Queue, Worker
from rq.utils import utcformat

pytestmark = pytest.mark.django_db


def registered_worker(*queues, beat_ago=0):
    connection = django_rq.get_connection("default")
    worker = Worker([Queue(q, connection=connection) for q in queues], connection=connection)
    worker.register_birth()
    beat = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=beat_ago)
    connection.hset(worker.key, "last_heartbeat", utcformat(beat))
    return worker


def test_health_answers_ok_with_no_worker(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["database"], body["redis"]) == ("ok", "ok", "ok")
    assert body["workers"] == {
        "alive": 0, "queues": {"default": 0, "cards": 0, "dispatch": 0, "dhis2": 0}}


def test_health_counts_workers_alive_per_queue(client):
    registered_worker("default", "cards")
    registered_worker("cards", beat_ago=5)

    workers = client.get("/health/").json()["workers"]

    assert workers == {"alive": 2, "queues": {"default": 1, "cards": 2, "dispatch": 0, "dhis2": 0}}


def test_a_worker_silent_for_a_minute_is_not_alive(client):
    registered_worker("cards", beat_ago=60)

    assert client.get("/health").json()["workers"]["alive"] == 0


def test_health_says_how_much_waits_per_queue_and_for_how_long(client):
    queue = Queue("cards", connection=django_rq.get_connection("cards"))
    job = queue.enqueue("campaignid.health.ping")
    queue.connection.hset(job.key, "enqueued_at",
                          utcformat(datetime.datetime.now(datetime.UTC)
                                    - datetime.timedelta(seconds=90)))
    queue.enqueue("campaignid.health.ping")
    registered_worker("cards")

    cards = client.get("/health").json()["queues"]["cards"]

    assert (cards["workers"], cards["waiting"], cards["running"], cards["scheduled"]) == (
        1, 2, 0, 0)
    assert 89 <= cards["oldest_waiting_seconds"] <= 100


def test_an_empty_queue_has_no_oldest_waiting_task(client):
    assert client.get("/health").json()["queues"]["dispatch"] == {
        "workers": 0, "waiting": 0, "oldest_waiting_seconds": None, "running": 0,
        "scheduled": 0}
