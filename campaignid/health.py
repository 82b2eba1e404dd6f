"""`/health`: whether the database and Redis answer, how many RQ workers are alive, and per
queue how much waits and for how long, so a person (or a load balancer, or monitoring) sees
at a glance that the pieces run, that a worker came back, and whether the workers keep up.

Also tiny RQ jobs that show a worker is alive and reads the same database as the web process.
`make run`'s test enqueues them; from a shell:
`django_rq.get_queue("default").enqueue("campaignid.health.ping")`.

The project package imports no app: worker state is read from RQ's records in Redis.
"""

import datetime
import logging

import django_rq
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from redis.exceptions import RedisError
from rq import Queue, Worker
from rq.registry import ScheduledJobRegistry, StartedJobRegistry

logger = logging.getLogger(__name__)

# A live CampaignWorker beats every 3 s while it runs a job and every 5 s while idle; a worker
# killed under a supervisor other than `make run` (which unregisters it at once) keeps its
# record for minutes, so only a recent beat counts as alive.
ALIVE_WITHIN = datetime.timedelta(seconds=20)


def view(request):
    database = _database_answers()
    workers = _workers_alive()
    queues = _queues(workers) if workers is not None else None
    ok = database and queues is not None
    body = {
        "status": "ok" if ok else "unavailable",
        "database": "ok" if database else "unreachable",
        "redis": "ok" if queues is not None else "unreachable",
        "workers": workers if queues is not None else None,
        "queues": queues,
    }
    response = JsonResponse(body, status=200 if ok else 503)
    response["Cache-Control"] = "no-store"
    return response


def _database_answers():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception as exc:
        logger.warning("health: the database did not answer (%s)", type(exc).__name__)
        return False


def _workers_alive():
    """{"alive": n, "queues": {queue: n}} of the workers that beat recently; None without
    Redis."""
    try:
        records = Worker.all(connection=django_rq.get_connection("default"))
    except RedisError as exc:
        logger.warning("health: Redis did not answer (%s)", type(exc).__name__)
        return None
    since = datetime.datetime.now(datetime.UTC) - ALIVE_WITHIN
    alive = [w for w in records if w.last_heartbeat and w.last_heartbeat >= since]
    queues = {name: 0 for name in settings.RQ_QUEUES}
    for worker in alive:
        for name in worker.queue_names():
            queues[name] = queues.get(name, 0) + 1
    return {"alive": len(alive), "queues": queues}


def _queues(workers):
    """{queue: {"workers", "waiting", "oldest_waiting_seconds", "running", "scheduled"}}:
    `oldest_waiting_seconds` is how long the task at the head of the queue has waited (null
    when none waits), the figure that says the workers do not keep up. None without Redis."""
    connection = django_rq.get_connection("default")
    now = datetime.datetime.now(datetime.UTC)
    try:
        found = {}
        for name in settings.RQ_QUEUES:
            queue = Queue(name, connection=connection)
            oldest = _oldest_waiting_seconds(queue, now)
            found[name] = {"workers": workers["queues"].get(name, 0), "waiting": None,
                           "oldest_waiting_seconds": oldest, "running": None,
                           "scheduled": None}
            try:
                found[name].update(
                    waiting=queue.count,
                    running=StartedJobRegistry(queue=queue).count,
                    scheduled=ScheduledJobRegistry(queue=queue).count,
                )
            except RedisError:
                raise
            except Exception as exc:  # the figures are hints, never a 500
                logger.warning("health: queue %s cannot be counted (%s)", name,
                               type(exc).__name__)
        return found
    except RedisError as exc:
        logger.warning("health: Redis did not answer (%s)", type(exc).__name__)
        return None


def _oldest_waiting_seconds(queue, now):
    """How long the task at the head of `queue` has waited; None when none waits or its
    record cannot be read (a task of an older release): the figure is a hint, never a 500."""
    try:
        head = queue.get_job_ids(0, 1)
        job = queue.fetch_job(head[0]) if head else None
        if job is None or job.enqueued_at is None:
            return None
        enqueued = job.enqueued_at.replace(tzinfo=job.enqueued_at.tzinfo or datetime.UTC)
        return max(round((now - enqueued).total_seconds(), 1), 0.0)
    except RedisError:
        raise
    except Exception as exc:
        logger.warning("health: the oldest task of %s cannot be read (%s)", queue.name,
                       type(exc).__name__)
        return None


def ping():
    return "pong"


def database():
    """Which database the worker uses and the programs it sees there."""
    program = apps.get_model("campaigns", "Program")
    return {
        "vendor": connection.vendor,
        "programs": sorted(program.objects.values_list("slug", flat=True)),
    }
