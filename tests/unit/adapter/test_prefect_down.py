"""When Prefect cannot be reached the API says so with a 503 and a message, never a 500 or a hang."""

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
    monkeypatch.setenv("REELFLOW_API_KEYS", KEY)
    get_settings.cache_clear()
    auth._known_keys.cache_clear()
    return app_client


def test_health_is_503(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 503 and "not reachable" in response.json()["message"]


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/v1/video/status?request_id=0693f1c2-0000-4000-8000-000000000000", None),
    ("POST", "/v1/video/create_narrative", {"input": {"prompt_list": ["a line"], "image_model": "FLUX1.1PRO"}}),
])
def test_calls_that_need_prefect_are_503(client: TestClient, method: str, path: str, body: object) -> None:
    response = client.request(method, path, headers={"API_KEY": KEY}, json=body)
    assert response.status_code == 503, response.text
    assert "not reachable" in response.json()["message"]
