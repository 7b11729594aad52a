"""The movie flow on the local renderers: exact durations, clip-length scenes, sync, resume, and a failing script."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from pytest_httpserver import HTTPServer

from core.contract import MovieRequest, parse_movie
from core.results import VideoResult
from core.settings import get_settings
from flows.movie import movie
from media.clip_plan import plan_clips
from media.probe import probe, stream_durations
from providers.registry import CALLS
from tasks.common import storage

PROMPT = ("A red fox trots across a snowy field at dawn. It stops and listens to the wind, then pounces on a mouse "
          "hidden under the snow. Satisfied, it curls up beneath an old pine tree and watches the sun rise.")


def request(**extra: Any) -> MovieRequest:
    fields = {"prompt": PROMPT, "image_model": "FLUX1.1PRO", "video_model": "KLINGIMGTOVIDPRO", "duration": 30,
              **extra}
    return parse_movie({"input": fields})


def labels(flow_run_id: Any) -> dict[str, Any]:
    with get_client(sync_client=True) as client:
        return dict(client.read_flow_run(flow_run_id).labels or {})


def check_file(result: VideoResult, seconds: float) -> tuple[float, float]:
    """The published MP4 lasts ``seconds`` ± 0.1 s, picture and sound within one frame of each other."""
    path = Path(storage().path(result.video))
    info = probe(path)
    assert info.video and info.video.codec == "h264" and info.audio and info.audio.codec == "aac"
    video_s, audio_s = stream_durations(path)
    assert abs(video_s - seconds) <= 0.1 and abs(result.duration - seconds) <= 0.1, (video_s, result.duration)
    assert abs(video_s - audio_s) <= 1 / get_settings().fps + 1e-3, (video_s, audio_s)
    return video_s, audio_s


def test_thirty_second_movie_is_thirty_seconds_of_clip_length_scenes() -> None:
    state = movie(request(), return_state=True)
    assert state.is_completed(), state.message
    result: VideoResult = state.result()
    check_file(result, 30.0)

    plan = plan_clips(30, (5.0, 10.0), get_settings().fps)
    assert [s.duration for s in result.scenes] == list(plan.shown)
    assert all(s.duration in (5.0, 10.0) for s in result.scenes), "30 s is a sum of whole 5/10 s clips"
    assert len(result.scenes) == len(plan.clips) and all(s.video for s in result.scenes)
    assert any(s.text for s in result.scenes) and result.rendered_by == "local"
    srt = storage().get_bytes(result.srt).decode()
    assert "-->" in srt and "fox" in srt.lower()

    stages = labels(state.state_details.flow_run_id)
    assert stages["reelflow.progress"] == 100
    for stage in ("prompt_generation", "image_generation", "speech_generation", "ai_video_generation",
                  "frame_generation", "video_generation"):
        assert stages[f"reelflow.stage.{stage}"] == "COMPLETED", stages


def test_unsnappable_duration_is_trimmed_to_the_frame_and_a_rerun_is_cached() -> None:
    req = request(duration=12, video_model="RUNWAYML", aspect_ratio="9:16", transition="fade", narration=False)
    state = movie(req, return_state=True)
    assert state.is_completed(), state.message
    result: VideoResult = state.result()
    check_file(result, 12.0)
    assert [s.duration for s in result.scenes] == [5.0, 7.0], "a 5 s clip, then a 10 s clip shown for 7 s"
    assert (result.width, result.height) == (720, 1280)
    assert all(not s.voice for s in result.scenes), "narration: false speaks nothing"

    before = CALLS.copy()
    again = movie(req, return_state=True)
    assert again.is_completed(), again.message
    assert CALLS == before, "a repeated movie must not call any provider"


def test_script_failure_fails_the_movie_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELFLOW_INJECT_FAULTS", "write-script")
    get_settings.cache_clear()
    state = movie(request(duration=5), return_state=True)
    assert state.is_failed()
    assert "script generation failed: injected fault at write-script" in str(state.message)
    assert labels(state.state_details.flow_run_id)["reelflow.stage.prompt_generation"] == "FAILED"


def chat_answer(content: str | None, refusal: str | None = None) -> dict[str, Any]:
    message = {"role": "assistant", "content": content, "refusal": refusal}
    return {"id": "chatcmpl-test", "object": "chat.completion", "created": 1, "model": "gpt-4.1-mini",
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None, "message": message}]}


@pytest.mark.parametrize(("answer", "attempts", "reason"), [
    (chat_answer('{"style": {"subject": '), 3, "OpenAI sent an unusable response: the script is not valid JSON"),
    (chat_answer(None, refusal="I can't help with that."), 1, "OpenAI refused the content (content policy)"),
])
def test_script_writer_retries_only_retryable_answers_then_fails_the_movie(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, answer: dict[str, Any], attempts: int, reason: str
) -> None:
    for name, value in {"OPENAI_API_KEY": "sk-test-movie-flow-000000", "OPENAI_BASE_URL": httpserver.url_for("/v1"),
                        "REELFLOW_TASK_RETRIES": "2", "REELFLOW_TASK_RETRY_DELAY": "0"}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_json(answer)
    state = movie(request(duration=5), return_state=True)
    assert state.is_failed()
    assert f"script generation failed: {reason}" in str(state.message)
    assert len(httpserver.log) == attempts, "malformed answers are asked again (2 retries), refusals never"
