"""The API app in-process, pointed at a Prefect server that is not there (nothing reaches Prefect in these tests)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from adapter import auth
from adapter.http import create_app
from core.settings import get_settings

KEY = "unit-test-key-0123456789"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def app_client() -> Iterator[TestClient]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{closed_port()}/api")
        with TestClient(create_app()) as client:
            yield client


@pytest.fixture
def client(app_client: TestClient, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    """The app with one known API key (``KEY``), settings re-read for this test."""
    monkeypatch.setenv("REELFLOW_API_KEYS", KEY)
    get_settings.cache_clear()
    auth._known_keys.cache_clear()
    return app_client
