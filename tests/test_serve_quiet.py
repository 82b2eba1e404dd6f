"""`make run` is quiet by default: the RQ workers' routine lines ("cleaning registries" every
few seconds) would scroll the printed login and API key out of sight."""

import time

import pytest

from tests.processes import run_job, serving

pytestmark = pytest.mark.slow


@pytest.fixture
def served(tmp_path):
    yield from serving(tmp_path)


def test_serve_prints_no_worker_chatter_by_default(served):
    server = served()
    server.wait_for_key()
    # The worker runs (so its silence is not a dead worker), then idles past two cleanings.
    assert run_job(server.var_dir, "campaignid.health.ping") == "pong"
    time.sleep(12)

    assert "cleaning registries" not in server.output
    assert "API key" in server.output
