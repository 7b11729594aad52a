"""When Prefect cannot be reached the API says so with a 503 and a message, never a 500 or a hang."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

KEY = "unit-test-key-0123456789"  # the key the conftest client knows


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
