"""create_movie over HTTP like a caller: its validation answers, then one offline 30 s movie from request to file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from media.probe import probe, stream_durations
from tests.e2e.conftest import poll, terminal

pytestmark = pytest.mark.e2e
STAGES = ("prompt_generation", "image_generation", "speech_generation", "ai_video_generation", "frame_generation",
          "video_generation")


def movie_body(**extra: Any) -> dict[str, Any]:
    fields = {"prompt": "A paper boat sails down a rainy street. A child runs after it, laughing. It reaches the "
                        "river and drifts toward the sea.",
              "image_model": "FLUX1.1PRO", "video_model": "KLINGIMGTOVIDPRO", "duration": 30, **extra}
    return {"input": {k: v for k, v in fields.items() if v is not ...}}


@pytest.mark.parametrize(("body", "message"), [
    (movie_body(prompt=...), "input.prompt: is required"),
    (movie_body(prompt="   "), "input.prompt: must not be empty"),
    (movie_body(prompt="x" * 501), "at most 500 are allowed"),
    (movie_body(image_model="DALLE3"), "'DALLE3' is not an express model"),
    (movie_body(video_model=...), "input.video_model: is required"),
    (movie_body(video_model="LUMA"), "'LUMA' is not an express model"),
    (movie_body(duration=...), "input.duration: is required"),
    (movie_body(duration="30"), "input.duration: must be a number of seconds"),
    (movie_body(duration=True), "input.duration: must be a number of seconds"),
    (movie_body(duration=0), "input.duration: must be greater than 0 seconds"),
    (movie_body(duration=121), "input.duration: must be at most 120 seconds"),
    (movie_body(duration=3), "the minimum is 5 seconds"),
    (movie_body(aspect_ratio="1:1", video_model="RUNWAYML"), "RUNWAYML does not offer 1:1"),
    (movie_body(transition="wipe"), "input.transition: must be one of"),
    ({**movie_body(), "webhookUrl": "ftp://x.example/hook"}, "webhookUrl: must be an absolute http"),
    ([1, 2], "body: must be a JSON object"),
])
def test_every_rule_is_a_400_with_a_message(api: httpx.Client, body: Any, message: str) -> None:
    response = api.post("/v1/video/create_movie", json=body)
    assert response.status_code == 400, response.text
    assert message in response.json()["message"]


def test_create_movie_needs_an_api_key(api: httpx.Client) -> None:
    response = httpx.post(f"{api.base_url}/v1/video/create_movie", json=movie_body())
    assert response.status_code == 400 and response.json() == {"message": "API_KEY header is missing or empty."}


def test_thirty_second_movie_end_to_end(api: httpx.Client, tmp_path: Path) -> None:
    created = api.post("/v1/video/create_movie", json=movie_body(speaker="alloy", provider="OPENAI"))
    assert created.status_code == 200, created.text
    seen: list[dict[str, Any]] = []
    body = poll(api, created.json()["request_id"], terminal, seen=seen)
    assert body["status"] == "COMPLETED", body
    progress = [b["progress"] for b in seen]
    assert progress == sorted(progress) and progress[-1] == 100, progress
    assert all(body["details"].get(stage) == "COMPLETED" for stage in STAGES), body["details"]

    result = body["result"]
    assert (result["width"], result["height"], result["aspect_ratio"]) == (1280, 720, "16:9")
    durations = [s["duration"] for s in result["scenes"]]
    assert sum(durations) == pytest.approx(30.0) and all(d in (5.0, 10.0) for d in durations), durations
    video = httpx.get(result["videoUrl"])
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    path = tmp_path / "movie.mp4"
    path.write_bytes(video.content)
    info = probe(path)
    assert info.video and info.video.codec == "h264" and info.audio and info.audio.codec == "aac"
    video_s, audio_s = stream_durations(path)
    assert abs(video_s - 30.0) <= 0.1 and abs(info.duration - 30.0) <= 0.1, (video_s, info.duration)
    assert abs(video_s - audio_s) <= 1 / 30 + 1e-3, (video_s, audio_s)
    srt = httpx.get(result["captions"]["srt"])
    assert srt.status_code == 200 and "paper boat" in srt.text.lower()
