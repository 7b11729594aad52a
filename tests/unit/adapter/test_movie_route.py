"""create_movie refuses, before any job exists, what this server cannot serve (as create_narrative does)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from adapter import auth, video
from adapter.errors import install_handlers
from core.settings import get_settings


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("REELFLOW_API_KEYS", "test-key")
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_x")  # online, with Replicate only
    get_settings.cache_clear()
    auth._known_keys.cache_clear()
    app = FastAPI()
    install_handlers(app)
    app.include_router(video.router)
    return TestClient(app)


def movie(**extra: Any) -> dict[str, Any]:
    return {"input": {"prompt": "A fox.", "image_model": "FLUX1.1PRO", "video_model": "KLINGIMGTOVIDPRO",
                      "duration": 10, **extra}}


def test_the_default_voice_needs_openai(client: TestClient) -> None:
    answer = client.post("/v1/video/create_movie", json=movie(), headers={"API_KEY": "test-key"})
    assert answer.status_code == 400
    assert answer.json() == {"message": "OPENAI voices need OPENAI_API_KEY on this server; "
                                        "or set REELFLOW_LOCAL_FALLBACK=true to render it locally"}


def test_validation_comes_first_and_names_the_field(client: TestClient) -> None:
    answer = client.post("/v1/video/create_movie", json=movie(duration="10"), headers={"API_KEY": "test-key"})
    assert answer.status_code == 400 and answer.json()["message"].startswith("input.duration: must be a number")
