"""GET /v1/video/models lists the catalog with what this server can serve; create refuses what it cannot."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from adapter import auth, models, video
from adapter.errors import install_handlers
from core.settings import get_settings


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("REELFLOW_API_KEYS", "test-key")
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_x")
    get_settings.cache_clear()
    auth._known_keys.cache_clear()
    app = FastAPI()
    install_handlers(app)
    app.include_router(models.router)
    return TestClient(app)


def test_models_lists_availability_backend_and_shapes(client: TestClient) -> None:
    assert client.get("/v1/video/models").status_code == 400
    body = client.get("/v1/video/models", headers={"API_KEY": "test-key"}).json()
    rows = {row["key"]: row for row in body["models"]}
    assert body["offline"] is False
    assert body["configured"] == ["replicate"]
    assert rows["FLUX1.1PRO"] == {
        "key": "FLUX1.1PRO", "kind": "image", "display_name": "Flux 1.1 Pro", "express": True, "available": True,
        "unavailable_reason": None, "backend": "replicate", "served_by": "replicate", "local_fallback": False,
        "vendor_model_id": "black-forest-labs/flux-1.1-pro", "retired": None, "clip_lengths": [],
        "backends": [{"backend": "replicate", "model_id": "black-forest-labs/flux-1.1-pro",
                      "variable": "REPLICATE_API_TOKEN", "configured": True}],
        "aspect_ratios": ["16:9", "9:16", "1:1"],
    }
    assert rows["RUNWAYML"]["served_by"] == "replicate"
    assert rows["RUNWAYML"]["vendor_model_id"] == "runwayml/gen4-turbo"
    assert rows["VEO3.1I2V"]["vendor_model_id"] == "google/veo-3.1"
    assert rows["VEO3.1I2V"]["clip_lengths"] == [4.0, 6.0, 8.0]
    assert rows["KLINGIMGTOVIDPRO"]["clip_lengths"] == [5.0, 10.0]
    assert rows["GPTIMAGE2"]["available"] is False
    assert rows["GPTIMAGE2"]["unavailable_reason"] == (
        "GPTIMAGE2 needs OPENAI_API_KEY on this server; or set REELFLOW_LOCAL_FALLBACK=true to render it locally")
    assert rows["DALLE3"]["retired"] == "OpenAI retired dall-e-3 on 2026-05-12; use GPTIMAGE2 instead"
    voices = {row["key"]: row for row in body["voice_providers"]}
    assert voices["LOCAL"]["available"]
    assert not voices["OPENAI"]["available"]
    assert voices["PLAYHT"]["unavailable_reason"].startswith("PLAYHT was shut down on 2025-12-31")


def test_create_refuses_a_model_this_server_cannot_serve(client: TestClient) -> None:
    client.app.include_router(video.router)  # type: ignore[attr-defined]
    body = {"input": {"prompt_list": ["a line"], "image_model": "FLUX1.1PRO", "provider": "ELEVENLABS"}}
    answer = client.post("/v1/video/create_narrative", json=body, headers={"API_KEY": "test-key"})
    assert answer.status_code == 400
    assert answer.json() == {"message": "ELEVENLABS voices need ELEVENLABS_API_KEY on this server; "
                                        "or set REELFLOW_LOCAL_FALLBACK=true to render it locally"}
