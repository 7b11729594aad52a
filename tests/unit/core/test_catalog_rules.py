"""The catalog's rules, one test each: retired rows, today's express keys, clip-length minimums, aspect sets,
voices, routing order, the local fallback and offline detection."""

from __future__ import annotations

from typing import Any

import pytest

from core import catalog
from core.contract import parse_movie, parse_narrative
from core.errors import InvalidRequest
from core.settings import get_settings
from providers import registry


def use(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()


def narrative(**fields: Any) -> Any:
    return parse_narrative({"input": {"prompt_list": ["a line"], "image_model": "FLUX1.1PRO", **fields}})


def movie(**fields: Any) -> Any:
    return parse_movie({"input": {"prompt": "A fox.", "image_model": "FLUX1.1PRO", "video_model": "VEO3.1I2V",
                                  "duration": 12, **fields}})


@pytest.mark.parametrize(("field", "key", "replacement"), [
    ("image_model", "DALLE3", "use GPTIMAGE2 instead"),
    ("image_model", "GPTIMAGE1", "use GPTIMAGE2 instead"),
    ("video_model", "SORA2", "use VEO3.1I2V, KLINGIMGTOVIDPRO or RUNWAYML instead"),
])
def test_a_retired_model_is_a_400_naming_the_replacement(field: str, key: str, replacement: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        movie(**{field: key})
    assert f"input.{field}: '{key}' is not an express model and can no longer be served" in str(caught.value)
    assert replacement in str(caught.value)


def test_a_retired_model_is_never_rendered_even_with_the_local_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, OPENAI_API_KEY="sk-x", REELFLOW_LOCAL_FALLBACK="true")
    assert registry.check_available("DALLE3") == (
        "DALLE3 can no longer be served: OpenAI retired dall-e-3 on 2026-05-12; use GPTIMAGE2 instead")


@pytest.mark.parametrize("key", ["GPTIMAGE2", "NANOBANANA2", "IMAGEN4", "FLUX1.1PRO", "IMAGEN3"])
def test_todays_image_keys_are_express(key: str) -> None:
    assert narrative(image_model=key).input.image_model == key


@pytest.mark.parametrize("key", ["VEO3.1I2V", "SEEDANCEI2V", "KLINGIMGTOVIDPRO", "RUNWAYML"])
def test_todays_video_keys_are_express(key: str) -> None:
    assert movie(video_model=key).input.video_model == key


def test_a_movie_shorter_than_the_models_shortest_clip_is_refused() -> None:
    with pytest.raises(InvalidRequest, match=r"input.duration: 3 s is shorter than the shortest clip of VEO3.1I2V; "
                                             r"the minimum is 4 seconds"):
        movie(duration=3)


def test_veo_offers_no_square_video_in_movies_or_narratives() -> None:
    with pytest.raises(InvalidRequest, match=r"input.aspect_ratio: VEO3.1I2V does not offer 1:1; use one of: 16:9"):
        movie(aspect_ratio="1:1")
    with pytest.raises(InvalidRequest, match=r"VEO3.1I2V does not offer 1:1"):
        narrative(add_generative_video=True, video_model="VEO3.1I2V", aspect_ratio="1:1")


def test_gemini_voices_are_the_documented_names() -> None:
    assert narrative(provider="GEMINI", speaker="Kore").input.voice.speaker == "Kore"
    assert narrative(speaker="Puck").input.voice.provider == "GEMINI"
    with pytest.raises(InvalidRequest, match="speaker 'alloy' is not a voice of GEMINI"):
        narrative(provider="GEMINI", speaker="alloy")


@pytest.mark.parametrize(("env", "provider", "speaker"), [
    ({}, "OPENAI", "alloy"),
    ({"GEMINI_API_KEY": "g"}, "GEMINI", "Kore"),
    ({"GEMINI_API_KEY": "g", "OPENAI_API_KEY": "sk"}, "OPENAI", "alloy"),
    ({"ELEVENLABS_API_KEY": "e"}, "ELEVENLABS", "rachel"),
    ({"GEMINI_API_KEY": "g", "REELFLOW_OFFLINE": "true"}, "OPENAI", "alloy"),
])
def test_the_default_voice_is_the_first_configured_vendors(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], provider: str, speaker: str
) -> None:
    use(monkeypatch, **env)
    voice = narrative().input.voice
    assert (voice.provider, voice.speaker) == (provider, speaker)


def test_offline_detection_counts_the_gemini_key(monkeypatch: pytest.MonkeyPatch) -> None:
    assert get_settings().is_offline
    use(monkeypatch, GEMINI_API_KEY="g")
    assert not get_settings().is_offline


@pytest.mark.parametrize(("env", "renderer"), [
    ({"GEMINI_API_KEY": "g"}, "google:gemini-3.1-flash-image"),
    ({"REPLICATE_API_TOKEN": "r"}, "replicate:google/imagen-4"),
    ({"REPLICATE_API_TOKEN": "r", "GEMINI_API_KEY": "g"}, "google:gemini-3.1-flash-image"),
    ({"GEMINI_API_KEY": "g", "REELFLOW_GEMINI_IMAGE_MODEL": "gemini-nano-banana-2.1"},
     "google:gemini-nano-banana-2.1"),
])
def test_the_first_configured_backing_serves_a_row(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], renderer: str
) -> None:
    use(monkeypatch, **env)
    assert registry.renderer_for("IMAGEN4") == renderer


def test_veo_is_served_by_google_or_by_replicate(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, REPLICATE_API_TOKEN="r")
    assert registry.renderer_for("VEO3.1I2V") == "replicate:google/veo-3.1"
    use(monkeypatch, GEMINI_API_KEY="g")
    assert registry.renderer_for("VEO3.1I2V") == "google:veo-3.1-generate-001"


def test_without_fallback_a_row_nobody_serves_is_a_400_naming_every_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, OPENAI_API_KEY="sk")
    assert registry.check_available("VEO3.1I2V") == (
        "VEO3.1I2V needs GEMINI_API_KEY (or REPLICATE_API_TOKEN) on this server; "
        "or set REELFLOW_LOCAL_FALLBACK=true to render it locally")


def test_with_fallback_a_row_nobody_serves_renders_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, OPENAI_API_KEY="sk", REELFLOW_LOCAL_FALLBACK="true")
    route = registry.route_model(catalog.find_model("KLINGIMGTOVIDPRO"))  # type: ignore[arg-type]
    assert route == registry.Route("local", fallback=True)
    assert registry.renderer_for("GPTIMAGE2") == "openai:gpt-image-2"
    assert registry.route_voice(catalog.find_voice_provider("GEMINI")) == registry.Route(  # type: ignore[arg-type]
        "local", fallback=True)


@pytest.mark.parametrize(("env", "writer"), [
    ({}, None), ({"OPENAI_API_KEY": "sk"}, "openai"), ({"GEMINI_API_KEY": "g"}, "google"),
    ({"GEMINI_API_KEY": "g", "OPENAI_API_KEY": "sk"}, "openai"), ({"REPLICATE_API_TOKEN": "r"}, None),
])
def test_the_script_writer_is_picked_by_what_is_configured(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], writer: str | None
) -> None:
    use(monkeypatch, **env)
    assert registry.script_writer() == writer


def test_every_live_row_is_well_formed() -> None:
    for entry in catalog.MODELS:
        assert entry.backings, entry.key
        assert set(entry.aspect_ratios) <= set(catalog.ALL_ASPECTS), entry.key
        assert all(b.backend in catalog.CREDENTIALS for b in entry.backings), entry.key
        assert (entry.kind == "video") == bool(entry.clip_lengths), entry.key
        assert not (entry.retired and entry.express), entry.key
