"""Pytest fixtures that start the DHIS2 stub; a test module gets them with

    pytest_plugins = ["tests.stubs.dhis2_fixtures"]
"""

import pytest

from tests.stubs.dhis2 import Dhis2Stub


@pytest.fixture
def dhis2_stub(settings):
    """A 2.41 stub; retries without waiting so failure tests stay quick."""
    settings.DHIS2_RETRY_DELAYS = (0.01, 0.01, 0.01)
    stub = Dhis2Stub().start()
    yield stub
    stub.stop()


@pytest.fixture
def dhis2_stub_240(settings):
    settings.DHIS2_RETRY_DELAYS = (0.01, 0.01, 0.01)
    stub = Dhis2Stub(version="2.40.3").start()
    yield stub
    stub.stop()
