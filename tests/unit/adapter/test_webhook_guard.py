"""A webhook URL on a private address is refused at create with a 400, before any job exists."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

KEY = "unit-test-key-0123456789"  # the key the conftest client knows


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://169.254.169.254/latest/meta-data",
                                 "http://10.0.0.5/hook", "http://localhost/hook"])
def test_private_webhook_targets_are_a_400(client: TestClient, url: str) -> None:
    response = client.post("/v1/video/create_narrative", headers={"API_KEY": KEY}, json={
        "input": {"prompt_list": ["a line"], "image_model": "FLUX1.1PRO"}, "webhookUrl": url})
    assert response.status_code == 400
    assert "webhooks only go to public addresses" in response.json()["message"]
