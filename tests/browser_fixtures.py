"""Pytest fixtures for the verifier's Chromium tests (`pytest_plugins`): one Chromium for the
module, and a context where nothing but file:// loads (the offline portal's)."""

import os

import pytest

from tests.browser import allowlisted_context, chromium

# Playwright's sync API runs an event loop in this thread; the tests' own database calls are
# synchronous and safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def offline(browser):
    """A browser context where nothing but file:// loads."""
    context = allowlisted_context(browser, "file://")
    yield context
    context.close()
