"""OpenAI through the official SDK against the local fake: exact requests, decoded media, script writer outcomes."""

from __future__ import annotations

import io
import wave

import pytest
from PIL import Image

from core.errors import FatalProviderError, RetryableProviderError
from core.settings import get_settings
from providers import openai_api
from providers.base import ImageRequest
from tests.fakes.openai_fake import OpenAIFake

SCHEMA = {"title": "Movie Script", "type": "object", "additionalProperties": False,
          "properties": {"title": {"type": "string"}, "scenes": {"type": "array", "items": {"type": "string"}}},
          "required": ["title", "scenes"]}


@pytest.mark.parametrize(("aspect", "size"), [("16:9", "1536x864"), ("9:16", "864x1536"), ("1:1", "1024x1024")])
def test_image_asks_for_the_native_size_and_returns_png(openai_fake_server: OpenAIFake, aspect: str, size: str) -> None:
    data = openai_api.OpenAIImageProvider("gpt-image-2").generate(ImageRequest("a fox", 1280, 720, 7, aspect))
    assert openai_fake_server.bodies["images"] == [
        {"model": "gpt-image-2", "prompt": "a fox", "size": size, "n": 1, "output_format": "png"}
    ]
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG" and f"{image.width}x{image.height}" == size
    assert openai_fake_server.problems == []


def test_speech_is_wav_with_word_timings_inside_the_audio(openai_fake_server: OpenAIFake) -> None:
    text = "The quick brown fox jumps."
    speech = openai_api.OpenAISpeechProvider().synthesize(text, "nova")
    assert openai_fake_server.bodies["speech"] == [
        {"model": "gpt-4o-mini-tts", "voice": "nova", "input": text, "response_format": "wav"}
    ]
    with wave.open(io.BytesIO(speech.wav)) as wav:
        assert wav.getnchannels() == 1 and wav.getsampwidth() == 2
        assert abs(wav.getnframes() / wav.getframerate() - speech.duration) < 1e-6
    assert [w.text for w in speech.words] == text.split()
    assert 0.05 <= speech.words[0].start < speech.words[-1].end <= speech.duration - 0.05  # the voiced span only
    assert all(a.end <= b.start for a, b in zip(speech.words, speech.words[1:], strict=False))
    assert speech.rendered_by == "openai"


def test_models_come_from_settings(openai_fake_server: OpenAIFake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELFLOW_OPENAI_TTS_MODEL", "gpt-5-tts")
    get_settings.cache_clear()
    openai_fake_server.tts_model = "gpt-5-tts"
    openai_api.OpenAISpeechProvider().synthesize("Hello there.", "alloy")
    assert openai_fake_server.bodies["speech"][0]["model"] == "gpt-5-tts"


def test_image_refused_by_the_safety_system_is_fatal_with_the_reason(openai_fake_server: OpenAIFake) -> None:
    openai_fake_server.content_policy = True
    with pytest.raises(FatalProviderError, match=r"OpenAI refused the content \(content policy\): .*safety system"):
        openai_api.OpenAIImageProvider("gpt-image-2").generate(ImageRequest("x", 1280, 720, 1, "16:9"))


def test_script_writer_sends_a_strict_json_schema_and_returns_the_object(openai_fake_server: OpenAIFake) -> None:
    openai_fake_server.script = {"title": "Foxes", "scenes": ["one", "two"]}
    script = openai_api.write_script("You write scripts.", "Two scenes about foxes.", SCHEMA, model="gpt-4.1-mini")
    assert script == {"title": "Foxes", "scenes": ["one", "two"]}
    (body,) = openai_fake_server.bodies["chat"]
    assert body == {
        "model": "gpt-4.1-mini",
        "messages": [{"role": "system", "content": "You write scripts."},
                     {"role": "user", "content": "Two scenes about foxes."}],
        "response_format": {"type": "json_schema",
                            "json_schema": {"name": "Movie_Script", "strict": True, "schema": SCHEMA}},
    }


@pytest.mark.parametrize(("mode", "error", "text"), [
    ("length", RetryableProviderError, "cut off at the length limit"),
    ("broken", RetryableProviderError, "not valid JSON"),
    ("refusal", FatalProviderError, "refused the content"),
])
def test_script_writer_outcomes(openai_fake_server: OpenAIFake, mode: str, error: type[Exception], text: str) -> None:
    openai_fake_server.script_mode = mode
    with pytest.raises(error, match=text):
        openai_api.write_script("s", "u", SCHEMA, model="gpt-4.1-mini")


def test_the_sdk_does_not_retry(openai_fake_server: OpenAIFake) -> None:
    openai_fake_server.status = 500
    with pytest.raises(RetryableProviderError):
        openai_api.OpenAISpeechProvider().synthesize("Hello.", "alloy")
    assert openai_fake_server.calls["POST /v1/audio/speech"] == 1
