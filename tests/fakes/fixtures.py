"""Fixtures that start a vendor fake on a free port and point reelflow's settings (and so the real SDKs) at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.settings import get_settings
from tests.fakes import elevenlabs_fake, gemini_fake, openai_fake, replicate_fake, runway_fake


@pytest.fixture
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Vendor jobs are polled every 20 ms in tests (the fakes finish in milliseconds)."""
    monkeypatch.setenv("REELFLOW_PROVIDER_POLL_INTERVAL", "0.02")
    monkeypatch.setenv("REELFLOW_PROVIDER_TIMEOUT", "10")
    get_settings.cache_clear()


@pytest.fixture
def openai_fake_server(monkeypatch: pytest.MonkeyPatch, fast_polls: None) -> Iterator[openai_fake.OpenAIFake]:
    fake = openai_fake.OpenAIFake().start()
    monkeypatch.setenv("OPENAI_API_KEY", openai_fake.KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    get_settings.cache_clear()
    yield fake
    fake.stop()


@pytest.fixture
def replicate_fake_server(monkeypatch: pytest.MonkeyPatch, fast_polls: None) -> Iterator[replicate_fake.ReplicateFake]:
    fake = replicate_fake.ReplicateFake().start()
    monkeypatch.setenv("REPLICATE_API_TOKEN", replicate_fake.TOKEN)
    monkeypatch.setenv("REPLICATE_BASE_URL", fake.url)
    get_settings.cache_clear()
    yield fake
    fake.stop()


@pytest.fixture
def runway_fake_server(monkeypatch: pytest.MonkeyPatch, fast_polls: None) -> Iterator[runway_fake.RunwayFake]:
    fake = runway_fake.RunwayFake().start()
    monkeypatch.setenv("RUNWAYML_API_SECRET", runway_fake.SECRET)
    monkeypatch.setenv("RUNWAYML_BASE_URL", fake.url)
    get_settings.cache_clear()
    yield fake
    fake.stop()


@pytest.fixture
def elevenlabs_fake_server(
    monkeypatch: pytest.MonkeyPatch, fast_polls: None
) -> Iterator[elevenlabs_fake.ElevenLabsFake]:
    fake = elevenlabs_fake.ElevenLabsFake().start()
    monkeypatch.setenv("ELEVENLABS_API_KEY", elevenlabs_fake.KEY)
    monkeypatch.setenv("ELEVENLABS_BASE_URL", fake.url)
    get_settings.cache_clear()
    yield fake
    fake.stop()


@pytest.fixture
def google_fake_server(monkeypatch: pytest.MonkeyPatch, fast_polls: None) -> Iterator[gemini_fake.GeminiFake]:
    """Both google-genai clients (Developer API and Vertex express mode) pointed at one fake by the SDK's variables."""
    fake = gemini_fake.GeminiFake().start()
    monkeypatch.setenv("GEMINI_API_KEY", gemini_fake.KEY)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.url)
    monkeypatch.setenv("GOOGLE_VERTEX_BASE_URL", fake.url)
    get_settings.cache_clear()
    yield fake
    fake.stop()
