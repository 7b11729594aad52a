"""One vendor key is enough: the flows on a Google-only server and on an OpenAI-only server with local fallback.

The real google-genai and openai SDKs talk to the local fakes; everything else (Prefect, ffmpeg, storage) is real.
Google-only: Gemini stills, Gemini TTS, Veo clips and a Gemini-written script. OpenAI-only with
``REELFLOW_LOCAL_FALLBACK=true``: GPT image stills, OpenAI voice and script, local motion for the video model no
configured vendor serves, and ``rendered_by`` saying so per kind and per scene.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.contract import parse_movie, parse_narrative
from core.results import VideoResult
from core.settings import get_settings
from flows.movie import movie
from flows.narrative import narrative
from media.probe import stream_durations
from tasks.common import storage
from tests.fakes.gemini_fake import FETCH, GeminiFake
from tests.fakes.openai_fake import OpenAIFake

PROMPT = "A paper boat sails down a rainy street. A child runs after it. It reaches the river."


def check_length(result: VideoResult, seconds: float) -> None:
    """The file lasts ``seconds`` ± 0.1 s, picture and sound within one frame of each other."""
    video_s, audio_s = stream_durations(Path(storage().path(result.video)))
    assert abs(video_s - seconds) <= 0.1, video_s
    assert abs(video_s - audio_s) <= 1 / get_settings().fps + 1e-3, (video_s, audio_s)


@pytest.fixture
def google_only(google_fake_server: GeminiFake, monkeypatch: pytest.MonkeyPatch) -> GeminiFake:
    monkeypatch.setenv("REELFLOW_TASK_RETRY_DELAY", "0")
    get_settings.cache_clear()
    return google_fake_server


def test_google_only_narrative_with_generative_video(google_only: GeminiFake) -> None:
    lines = ["A lighthouse on a stormy cliff.", "A small boat turns toward the light."]
    request = parse_narrative({"input": {"prompt_list": lines, "image_model": "NANOBANANA2",
                                         "add_generative_video": True, "video_model": "VEO3.1I2V"}})
    assert request.input.voice.provider == "GEMINI"  # no voice named: the configured vendor's default
    state = narrative(request, return_state=True)
    assert state.is_completed(), state.message
    result: VideoResult = state.result()
    assert result.rendered_by == "google"
    assert result.renderers == {"image": "google", "voice": "google", "video": "google"}
    assert [s.rendered_by for s in result.scenes] == [{"image": "google", "voice": "google", "video": "google"}] * 2
    assert sorted(b["instances"][0]["prompt"] for b in google_only.bodies["veo"]) == sorted(lines)
    assert {b["parameters"]["durationSeconds"] for b in google_only.bodies["veo"]} <= {4, 6, 8}
    assert google_only.problems == []


def test_google_only_twelve_second_veo_movie(google_only: GeminiFake) -> None:
    request = parse_movie({"input": {"prompt": PROMPT, "image_model": "IMAGEN4", "video_model": "VEO3.1I2V",
                                     "duration": 12}})
    state = movie(request, return_state=True)
    assert state.is_completed(), state.message
    result: VideoResult = state.result()
    check_length(result, 12.0)
    assert [s.duration for s in result.scenes] == [4.0, 8.0]
    assert sorted(b["parameters"]["durationSeconds"] for b in google_only.bodies["veo"]) == [4, 8]
    assert len(google_only.bodies["generate:gemini-2.5-flash"]) == 1  # the script, by Gemini
    assert google_only.calls[f"POST {FETCH}"] >= 2
    assert result.renderers == {"image": "google", "voice": "google", "video": "google"}
    assert google_only.problems == []


def test_openai_only_movie_with_local_fallback_says_which_parts_were_local(
    openai_fake_server: OpenAIFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REELFLOW_LOCAL_FALLBACK", "true")
    get_settings.cache_clear()
    openai_fake_server.script = None  # a script that follows the requested scene list
    request = parse_movie({"input": {"prompt": PROMPT, "image_model": "GPTIMAGE2", "video_model": "KLINGIMGTOVIDPRO",
                                     "duration": 12}})
    state = movie(request, return_state=True)
    assert state.is_completed(), state.message
    result: VideoResult = state.result()
    check_length(result, 12.0)
    assert result.renderers == {"image": "openai", "voice": "openai", "video": "local"}
    assert all(s.rendered_by["video"] == "local" for s in result.scenes)
    assert all(s.rendered_by["image"] == "openai" for s in result.scenes)
    assert len(openai_fake_server.bodies["chat"]) == 1
    assert openai_fake_server.problems == []
