"""Routing: offline renders locally, a configured vendor serves its rows, a missing credential is a clear refusal."""

from __future__ import annotations

import pytest

from core import catalog
from core.contract import parse_narrative
from core.errors import InvalidRequest
from core.settings import get_settings
from providers import registry
from providers.base import ImageRequest


def use(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()


def narrative(**extra: object) -> object:
    return parse_narrative({"input": {"prompt_list": ["a line"], "image_model": "FLUX1.1PRO", **extra}}).input


def test_offline_everything_is_local() -> None:
    assert get_settings().is_offline
    assert all(registry.check_available(m.key) is None for m in catalog.MODELS if not m.retired)
    assert registry.renderer_for("FLUX1.1PRO") == "local" and registry.voice_renderer_for("OPENAI") == "local"
    assert registry.availability_error(narrative(add_generative_video=True, video_model="RUNWAYML")) is None


def test_a_model_whose_vendor_has_no_credentials_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, OPENAI_API_KEY="sk-x")
    assert registry.availability_error(narrative()) == (
        "FLUX1.1PRO needs REPLICATE_API_TOKEN on this server; " + registry.FALLBACK_HINT)
    with pytest.raises(InvalidRequest, match="FLUX1.1PRO needs REPLICATE_API_TOKEN on this server"):
        registry.generate_image("FLUX1.1PRO", ImageRequest("x", 64, 36, 1, "16:9"))
    assert registry.check_available("ELEVENLABS") == (
        "ELEVENLABS voices need ELEVENLABS_API_KEY on this server; " + registry.FALLBACK_HINT)
    assert registry.check_available("LOCAL") is None
    assert registry.renderer_for("FLUX1.1PRO") == "unavailable"


def test_configured_vendors_serve_their_rows_and_runway_falls_back_to_replicate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use(monkeypatch, REPLICATE_API_TOKEN="r8_x", OPENAI_API_KEY="sk-x")
    assert registry.renderer_for("FLUX1.1PRO") == "replicate:black-forest-labs/flux-1.1-pro"
    assert registry.renderer_for("RUNWAYML") == "replicate:runwayml/gen4-turbo"
    assert registry.renderer_for("GPTIMAGE2") == "openai:gpt-image-2"
    assert registry.voice_renderer_for("OPENAI") == "openai:gpt-4o-mini-tts"
    assert registry.availability_error(narrative(add_generative_video=True, video_model="KLINGIMGTOVIDPRO")) is None
    use(monkeypatch, RUNWAYML_API_SECRET="key_x", REELFLOW_RUNWAY_MODEL="gen4.5")
    assert registry.renderer_for("RUNWAYML") == "runway:gen4.5"


def test_runway_without_any_of_its_backends(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, OPENAI_API_KEY="sk-x")
    assert registry.check_available("RUNWAYML") == (
        "RUNWAYML needs RUNWAYML_API_SECRET (or REPLICATE_API_TOKEN) on this server; " + registry.FALLBACK_HINT)


def test_forced_offline_wins_over_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, OPENAI_API_KEY="sk-x", REELFLOW_OFFLINE="true")
    assert registry.check_available("FLUX1.1PRO") is None and registry.renderer_for("FLUX1.1PRO") == "local"
    assert not registry.script_writer_available()


PLAYHT_GONE = "PLAYHT was shut down on 2025-12-31; use OPENAI, GEMINI, ELEVENLABS or LOCAL"


def test_playht_is_refused_at_validation_with_the_shutdown_date() -> None:
    with pytest.raises(InvalidRequest, match=PLAYHT_GONE):
        parse_narrative({"input": {"prompt_list": ["a"], "image_model": "FLUX1.1PRO", "provider": "PLAYHT"}})
    assert registry.check_available("PLAYHT") == PLAYHT_GONE
