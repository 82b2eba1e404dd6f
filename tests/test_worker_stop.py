"""A worker asked to stop (SIGTERM) while its maintenance runs the recovery sweeps stops once
they end, as it would after a job (campaignid/worker.py)."""

import os
import signal

import django_rq
import pytest

from campaignid.worker import CampaignWorker

pytestmark = pytest.mark.django_db


def ask_to_stop():
    """A recovery sweep during which the worker is asked to stop."""
    os.kill(os.getpid(), signal.SIGTERM)


@pytest.fixture
def worker():
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    worker = CampaignWorker([django_rq.get_queue("cards")],
                            connection=django_rq.get_connection("cards"))
    worker._install_signal_handlers()
    yield worker
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


def test_a_stop_asked_during_the_sweeps_stops_the_worker_after_them(settings, worker):
    settings.RECOVERY_SWEEPS = ["tests.test_worker_stop.ask_to_stop"]
    worker.run_maintenance_tasks()
    assert worker._stop_requested
