"""Tiny RQ jobs that show a worker is alive and reads the same database as the web process.

`make run`'s test enqueues them; from a shell:
`django_rq.get_queue("default").enqueue("campaignid.health.ping")`.
"""

from django.db import connection

from campaigns.models import Program


def ping():
    return "pong"


def database():
    """Which database the worker uses and the programs it sees there."""
    return {
        "vendor": connection.vendor,
        "programs": sorted(Program.objects.values_list("slug", flat=True)),
    }
