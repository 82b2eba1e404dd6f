"""Pytest fixtures that start the provider stubs (see tests/stubs/__init__.py)."""

import pytest

from tests.stubs.google import GoogleStub
from tests.stubs.orange import OrangeStub
from tests.stubs.whatsapp import WhatsAppStub


@pytest.fixture
def whatsapp_stub(settings):
    stub = WhatsAppStub().start()
    settings.WHATSAPP_API_URL = stub.base_url
    yield stub
    stub.stop()


@pytest.fixture
def orange_stub(settings):
    stub = OrangeStub().start()
    settings.ORANGE_API_URL = stub.url
    yield stub
    stub.stop()


@pytest.fixture
def google_stub(settings):
    stub = GoogleStub().start()
    settings.GOOGLE_WALLET_API_URL = stub.wallet_url
    settings.GOOGLE_OAUTH_TOKEN_URL = stub.token_url
    yield stub
    stub.stop()


@pytest.fixture
def orange(monkeypatch, settings):
    """The Orange stub, known to this process and to the processes it starts (worker
    processes read its address from the environment); it notes when each SMS arrived."""
    from tests.dispatch_helpers import TimedOrangeStub

    stub = TimedOrangeStub().start()
    settings.ORANGE_API_URL = stub.url
    monkeypatch.setenv("ORANGE_API_URL", stub.url)
    yield stub
    stub.stop()
