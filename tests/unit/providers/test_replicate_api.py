"""Replicate through the official SDK against the local fake: model paths, inputs, polling, deadline, refusals."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from core.errors import FatalProviderError, RetryableProviderError
from core.settings import get_settings
from media.probe import probe
from providers import replicate_api
from providers.base import ClipRequest, ImageRequest
from tests.fakes import media
from tests.fakes.replicate_fake import ReplicateFake


def clip_request(tmp_path: Path, duration: float = 5.0, aspect: str = "16:9") -> ClipRequest:
    still = tmp_path / "still.png"
    still.write_bytes(media.png(1280, 720))
    return ClipRequest(image=still, prompt="a fox runs", duration=duration, width=1280, height=720, fps=30,
                       motion_index=1, aspect_ratio=aspect)


def test_flux_creates_on_the_model_path_with_its_inputs_and_returns_png(replicate_fake_server: ReplicateFake) -> None:
    provider = replicate_api.ReplicateImageProvider("black-forest-labs/flux-1.1-pro")
    data = provider.generate(ImageRequest("a red fox", 1280, 720, 1234, "16:9"))
    assert replicate_fake_server.bodies["black-forest-labs/flux-1.1-pro"] == [
        {"prompt": "a red fox", "aspect_ratio": "16:9", "seed": 1234, "output_format": "png"}
    ]
    assert replicate_fake_server.calls["POST /v1/models/(?P<owner>[\\w.\\-]+)/(?P<name>[\\w.\\-]+)/predictions"] == 1
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG" and image.size == (1344, 768)
    assert replicate_fake_server.problems == []


def test_imagen_takes_no_seed(replicate_fake_server: ReplicateFake) -> None:
    replicate_api.ReplicateImageProvider("google/imagen-3").generate(ImageRequest("a cat", 720, 1280, 1, "9:16"))
    assert replicate_fake_server.bodies["google/imagen-3"] == [{"prompt": "a cat", "aspect_ratio": "9:16"}]


@pytest.mark.parametrize(("model", "image_field", "extra"), [
    ("kwaivgi/kling-v1.6-pro", "start_image", {"duration": 5}),
    ("luma/ray-2-720p", "start_image", {"duration": 5}),
    ("minimax/video-01", "first_frame_image", {"prompt_optimizer": True}),
    ("runwayml/gen4-turbo", "image", {"duration": 5, "aspect_ratio": "16:9"}),
])
def test_video_models_get_the_still_inline_and_the_clip_is_downloaded(
    replicate_fake_server: ReplicateFake, tmp_path: Path, model: str, image_field: str, extra: dict[str, object]
) -> None:
    out = replicate_api.ReplicateVideoProvider(model).animate(clip_request(tmp_path), tmp_path / "clip.mp4")
    (inputs,) = replicate_fake_server.bodies[model]
    assert inputs.pop(image_field).startswith("data:image/jpeg;base64,")
    assert inputs == {"prompt": "a fox runs", **extra}
    info = probe(out)
    assert info.video is not None and info.video.codec == "h264"
    assert replicate_fake_server.problems == []


def test_a_prediction_past_our_deadline_is_cancelled(
    replicate_fake_server: ReplicateFake, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("REELFLOW_PROVIDER_JOB_TIMEOUT", "0.2")
    get_settings.cache_clear()
    replicate_fake_server.latency["clip"] = 30
    provider = replicate_api.ReplicateVideoProvider("kwaivgi/kling-v1.6-pro")
    with pytest.raises(RetryableProviderError, match=r"did not finish the video clip within 0.2 s \(timeout\)"):
        provider.animate(clip_request(tmp_path), tmp_path / "clip.mp4")
    (prediction,) = replicate_fake_server.predictions.values()
    assert prediction["public"]["status"] == "canceled"
    assert replicate_fake_server.calls["POST /v1/predictions/(?P<id>\\w+)/cancel"] == 1


def test_the_safety_checker_failing_a_prediction_is_a_content_refusal(replicate_fake_server: ReplicateFake) -> None:
    replicate_fake_server.content_policy = True
    with pytest.raises(FatalProviderError, match=r"Replicate refused the content \(content policy\): NSFW"):
        replicate_api.ReplicateImageProvider("black-forest-labs/flux-1.1-pro").generate(
            ImageRequest("x", 1280, 720, 1, "16:9"))


def test_neither_create_nor_poll_is_retried_by_the_sdk(replicate_fake_server: ReplicateFake) -> None:
    replicate_fake_server.status = 503
    with pytest.raises(RetryableProviderError) as caught:
        replicate_api.ReplicateImageProvider("black-forest-labs/flux-1.1-pro").generate(
            ImageRequest("x", 1280, 720, 1, "16:9"))
    assert sum(replicate_fake_server.calls.values()) == 1
    assert caught.value.retry_after == 7


def test_todays_replicate_rows_send_their_documented_inputs(tmp_path: Path) -> None:
    still = tmp_path / "still.png"
    still.write_bytes(media.png(64, 36))
    request = ClipRequest(image=still, prompt="p", duration=6.0, width=1280, height=720, fps=30, motion_index=1,
                          aspect_ratio="9:16")
    veo = replicate_api.video_input("google/veo-3.1", request)
    assert {k: v for k, v in veo.items() if k != "image"} == {"prompt": "p", "duration": 6, "aspect_ratio": "9:16",
                                                                "generate_audio": False}
    seedance = replicate_api.video_input("bytedance/seedance-1-pro", request)
    assert {k: v for k, v in seedance.items() if k != "image"} == {"prompt": "p", "duration": 6, "resolution": "720p"}
    assert seedance["image"].startswith("data:image/jpeg;base64,")
    assert replicate_api.image_input("google/imagen-4", ImageRequest("p", 64, 36, 3, "16:9")) == {
        "prompt": "p", "aspect_ratio": "16:9"}
