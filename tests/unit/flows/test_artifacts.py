"""The Prefect UI artifacts: a completed job's scene table and video card, a failed job's reason and advice."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

import pytest
from prefect.client.schemas.objects import FlowRun
from prefect.states import Failed

from core.results import SceneAssets, VideoResult
from core.settings import get_settings
from flows.artifacts import FAILURE_TITLE, VIDEO_TITLE, advice, failure_markdown, scene_rows, video_markdown


def result() -> VideoResult:
    scene = SceneAssets(index=1, text="A lighthouse at dawn.", duration=3.25, image="cache/ab/img.png",
                        voice="cache/cd/v.wav", clip="cache/ef/clip.mp4",
                        rendered_by={"image": "local", "voice": "local"})
    return VideoResult(video="jobs/x/video.mp4", srt="jobs/x/c.srt", vtt="jobs/x/c.vtt", poster="jobs/x/poster.jpg",
                       duration=3.25, width=1280, height=720, aspect_ratio="16:9", size_bytes=2_000_000,
                       scenes=[scene])


def expiry(url: str) -> int:
    return int(parse_qs(urlsplit(url).query)["expires"][0])


def test_scene_rows_link_each_still_and_clip_signed_for_the_ui_link_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELFLOW_UI_LINK_TTL", str(400 * 24 * 3600))
    get_settings.cache_clear()
    (row,) = scene_rows(result())
    assert row["scene"] == 1
    assert row["line"] == "A lighthouse at dawn."
    assert "/v1/video/files/cache/ab/img.png?expires=" in row["still"]
    assert "/v1/video/files/cache/ef/clip.mp4?expires=" in row["clip"]
    assert expiry(row["still"]) > time.time() + 399 * 24 * 3600  # outlives /status's 7-day links
    assert row["ai_clip"] == ""


def test_video_card_shows_the_poster_inline_and_links_video_and_captions() -> None:
    text = video_markdown("3f2a9c1e-aaaa", result())
    assert text.startswith(f"# {VIDEO_TITLE}")
    assert "[![poster of 3f2a9c1e](http" in text
    assert "poster.jpg?expires=" in text
    assert "**[Download the video](http" in text
    assert "[SRT](http" in text


def failed_run(labels: dict[str, str]) -> FlowRun:
    return FlowRun(id=uuid4(), flow_id=uuid4(), name="x", labels=labels)


def test_failure_card_names_stage_scene_reason_and_what_to_try() -> None:
    run = failed_run({"reelflow.failed_stage": "image_generation",
                      "reelflow.message": "image_generation failed for scene 2: FLUX1.1PRO refused: content policy"})
    text = failure_markdown(run, Failed(message="ignored"))
    assert text.startswith(f"# {FAILURE_TITLE}")
    assert "| Stage | `image_generation` |" in text
    assert "| Scene | 2 |" in text
    assert "| Reason | FLUX1.1PRO refused: content policy |" in text
    assert "reword the scene's line" in text


def test_failure_without_labels_uses_the_state_message() -> None:
    text = failure_markdown(failed_run({}), Failed(message="Flow run encountered an exception: boom"))
    assert "| Stage | `unknown` |" in text
    assert "| Scene | - |" in text
    assert "| Reason | boom |" in text


@pytest.mark.parametrize(("stage", "reason", "expected"), [
    ("image_generation", "429 Too Many Requests", "Submit the same request again"),
    ("speech_generation", "401 invalid api key", "Check the vendor credential"),
    ("ai_video_generation", "odd failure", "Try another video_model"),
    ("somewhere", "odd failure", "See this run's logs"),
])
def test_advice_prefers_the_reason_then_the_stage(stage: str, reason: str, expected: str) -> None:
    assert expected in advice(stage, reason)
