"""Runway through the official runwayml SDK against the local fake: the task's request, polling, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import FatalProviderError, RetryableProviderError
from core.settings import get_settings
from media.probe import probe
from providers.base import ClipRequest
from providers.runway_api import RunwayVideoProvider
from tests.fakes import media
from tests.fakes.runway_fake import RunwayFake


def clip_request(tmp_path: Path, aspect: str = "16:9", duration: float = 5.0) -> ClipRequest:
    still = tmp_path / "still.png"
    still.write_bytes(media.png(1280, 720))
    return ClipRequest(image=still, prompt="waves roll in", duration=duration, width=1280, height=720, fps=30,
                       motion_index=1, aspect_ratio=aspect)


@pytest.mark.parametrize(("aspect", "ratio", "duration"), [("16:9", "1280:720", 5.0), ("9:16", "720:1280", 10.0)])
def test_image_to_video_request_and_downloaded_clip(
    runway_fake_server: RunwayFake, tmp_path: Path, aspect: str, ratio: str, duration: float
) -> None:
    out = RunwayVideoProvider().animate(clip_request(tmp_path, aspect, duration), tmp_path / "clip.mp4")
    (body,) = runway_fake_server.bodies["image_to_video"]
    assert body.pop("promptImage").startswith("data:image/jpeg;base64,")
    assert body == {"model": "gen4_turbo", "promptText": "waves roll in", "ratio": ratio, "duration": int(duration)}
    info = probe(out)
    assert info.video is not None and info.video.codec == "h264"
    assert runway_fake_server.problems == []


def test_the_model_is_a_setting(runway_fake_server: RunwayFake, monkeypatch: pytest.MonkeyPatch,
                                tmp_path: Path) -> None:
    monkeypatch.setenv("REELFLOW_RUNWAY_MODEL", "gen4.5")
    get_settings.cache_clear()
    runway_fake_server.model = "gen4.5"
    RunwayVideoProvider().animate(clip_request(tmp_path), tmp_path / "clip.mp4")
    assert runway_fake_server.bodies["image_to_video"][0]["model"] == "gen4.5"


def test_a_safety_failure_is_a_content_refusal(runway_fake_server: RunwayFake, tmp_path: Path) -> None:
    runway_fake_server.content_policy = True
    with pytest.raises(FatalProviderError, match=r"Runway refused the content .*SAFETY.INPUT.IMAGE"):
        RunwayVideoProvider().animate(clip_request(tmp_path), tmp_path / "clip.mp4")


def test_a_task_past_our_deadline_is_deleted(
    runway_fake_server: RunwayFake, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("REELFLOW_PROVIDER_JOB_TIMEOUT", "0.2")
    get_settings.cache_clear()
    runway_fake_server.latency["clip"] = 30
    with pytest.raises(RetryableProviderError, match="timeout"):
        RunwayVideoProvider().animate(clip_request(tmp_path), tmp_path / "clip.mp4")
    assert runway_fake_server.calls["DELETE /v1/tasks/(?P<id>[\\w\\-]+)"] == 1
    (task,) = runway_fake_server.tasks.values()
    assert task["status"] == "CANCELLED"
