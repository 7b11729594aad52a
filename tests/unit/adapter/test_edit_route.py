"""/v1/video/edit and caller media at create: every rule that needs no job answers 400 (or 401/413) at the API,
before Prefect is asked anything (the conftest app points at a Prefect that is not there; 404/409 and scene ranges
against real jobs are in tests/e2e/test_edit.py)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

KEY = "unit-test-key-0123456789"  # the key the conftest client knows
RID = "0b0c8a3e-5d5e-4f0e-9a51-7d1f2f6d1a11"


@pytest.mark.parametrize(("body", "message"), [
    ({"request_id": RID, "scenes": {}}, "scenes: is empty; an edit changes at least one scene"),
    ({"request_id": RID}, "scenes: is required"),
    ({"request_id": RID, "scenes": {"two": {"reroll": "image"}}}, "scenes: 'two' is not a scene number"),
    ({"request_id": RID, "scenes": {"2": {}}}, "scenes.2: is empty; set reroll, text, image_url or video_url"),
    ({"request_id": RID, "scenes": {"2": {"reroll": ["image"]}}}, "scenes.2.reroll: '['image']' is not a reroll"),
    ({"request_id": RID, "scenes": {"2": {"reroll": "sound"}}}, "scenes.2.reroll: 'sound' is not a reroll target"),
    ({"request_id": RID, "scenes": {"2": {"image_url": "http://127.0.0.1/a.png"}}},
     "scenes.2.image_url: 127.0.0.1 resolves to 127.0.0.1"),
    ({"request_id": RID, "scenes": {"2": {"video_url": "http://169.254.169.254/latest"}}},
     "media is only fetched from public addresses"),
    ({"request_id": RID, "scenes": {"1": {"reroll": "image"}}, "webhookUrl": "http://10.0.0.5/hook"},
     "webhookUrl: 10.0.0.5 resolves to"),
])
def test_edit_rules_are_400s_before_any_job_is_read(client: TestClient, body: dict[str, Any], message: str) -> None:
    response = client.post("/v1/video/edit", headers={"API_KEY": KEY}, json=body)
    assert response.status_code == 400, response.text
    assert message in response.json()["message"]


def test_edit_needs_a_known_key(client: TestClient) -> None:
    response = client.post("/v1/video/edit", headers={"API_KEY": "nobody-knows-this-key"},
                           json={"request_id": RID, "scenes": {"1": {"reroll": "image"}}})
    assert response.status_code == 401


def test_caller_media_at_create_follows_the_webhook_rule(client: TestClient) -> None:
    response = client.post("/v1/video/create_narrative", headers={"API_KEY": KEY}, json={"input": {
        "image_model": "FLUX1.1PRO",
        "prompt_list": ["One.", {"text": "Two.", "image_url": "http://192.168.1.10/two.png"}]}})
    assert response.status_code == 400
    assert response.json()["message"].startswith("input.prompt_list.2.image_url: 192.168.1.10 resolves to")


def test_the_edit_operation_is_in_openapi(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["paths"]["/v1/video/edit"]["post"]["operationId"] == "edit"
    assert "EditRequest" in schema["components"]["schemas"]
