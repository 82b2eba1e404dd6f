"""Real services: PostgreSQL when DATABASE_URL is set (CI), else SQLite; Redis from REDIS_URL,
else an embedded server under var/. On CI a service that is down fails the run."""

import os

import pytest
import redis
from django.conf import settings

from campaignid import redis_server

_embedded_redis = None
# The stub servers listen on 127.0.0.1, which the outbound guard refuses unless listed;
# worker processes the tests start inherit this.
STUB_HOSTS = "127.0.0.1,localhost"
os.environ.setdefault("OUTBOUND_ALLOW_PRIVATE", STUB_HOSTS)


def pytest_configure(config):
    global _embedded_redis
    if settings.EMBEDDED_REDIS:
        _embedded_redis = redis_server.start(settings.VAR_DIR / "redis.sock")
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=3).ping()
    except redis.exceptions.RedisError as exc:
        pytest.exit(f"Redis at {settings.REDIS_URL} is not reachable: {exc}", returncode=3)


def pytest_unconfigure(config):
    if _embedded_redis is not None:
        _embedded_redis.terminate()


@pytest.fixture(autouse=True)
def clean_redis():
    """Each test starts with empty queues, channel groups, rate-limit buckets and tokens."""
    from distribution import tokens

    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    tokens.forget_process_copies()
    yield


@pytest.fixture(autouse=True)
def outbound_allows_stubs(settings):
    settings.OUTBOUND_ALLOW_PRIVATE = STUB_HOSTS.split(",")


@pytest.fixture
def on_ci():
    return os.environ.get("CI") == "true"


@pytest.fixture(autouse=True)
def media_root(tmp_path, settings):
    """Artifacts of one test never land beside another's."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# Shared data fixtures. Like the local copies they replace, they do not request `db`: a test
# using them carries the django_db mark (transactional or not). A module's own `program` or
# `campaign` fixture overrides these.


@pytest.fixture
def program():
    from tests.factories import make_program

    return make_program()


@pytest.fixture
def campaign(program):
    from tests.factories import make_campaign

    return make_campaign(program=program)
