"""A caller's music track on a private address is refused at create with a 400 naming the field, on both endpoints."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

KEY = "unit-test-key-0123456789"  # the key the conftest client knows
BODIES: dict[str, dict[str, Any]] = {
    "create_narrative": {"prompt_list": ["a line"], "image_model": "FLUX1.1PRO"},
    "create_movie": {"prompt": "a fox", "image_model": "FLUX1.1PRO", "video_model": "KLINGIMGTOVIDPRO",
                     "duration": 5},
}


@pytest.mark.parametrize("endpoint", BODIES)
@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/a.mp3", "http://169.254.169.254/latest/meta-data",
                                 "http://10.0.0.5/a.mp3", "http://localhost/a.mp3"])
def test_private_music_tracks_are_a_400(client: TestClient, endpoint: str, url: str) -> None:
    response = client.post(f"/v1/video/{endpoint}", headers={"API_KEY": KEY},
                           json={"input": {**BODIES[endpoint], "music": {"url": url}}})
    assert response.status_code == 400
    assert response.json()["message"].startswith("input.music.url: ")


def test_the_refusal_says_why(client: TestClient) -> None:
    response = client.post("/v1/video/create_narrative", headers={"API_KEY": KEY},
                           json={"input": {**BODIES["create_narrative"], "music": {"url": "http://10.0.0.5/a.mp3"}}})
    assert "music tracks are only fetched from public addresses" in response.json()["message"]
