"""The narrative flow on real vendor SDKs pointed at local fakes: the same path the runner takes, vendors faked.

FLUX1.1PRO stills and KLINGIMGTOVIDPRO clips on Replicate, narration on OpenAI: the job completes with the vendors'
outputs; injected 5xx are absorbed by task retries; bad credentials and content refusals fail the job at once with
a message that names the vendor and the cause. RUNWAYML and ELEVENLABS take the same path; with
``REELFLOW_VENDOR_GCL`` every vendor call holds a Prefect global concurrency limit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate

from core.contract import parse_narrative
from core.results import VideoResult
from core.settings import get_settings
from flows.narrative import narrative
from media.probe import probe
from tasks.common import storage
from tasks.planning import scene_seed
from tests.fakes.elevenlabs_fake import ElevenLabsFake
from tests.fakes.openai_fake import OpenAIFake
from tests.fakes.replicate_fake import TOKEN, ReplicateFake
from tests.fakes.runway_fake import RunwayFake

LINES = ["A red fox trots across a snowy field.", "It stops and listens.", "Then it pounces."]
FLUX = "black-forest-labs/flux-1.1-pro"
KLING = "kwaivgi/kling-v1.6-pro"
CREATE = r"POST /v1/models/(?P<owner>[\w.\-]+)/(?P<name>[\w.\-]+)/predictions"


def request(lines: list[str] = LINES, **extra: Any) -> Any:
    return parse_narrative({"input": {
        "prompt_list": lines, "image_model": "FLUX1.1PRO", "add_generative_video": True,
        "video_model": "KLINGIMGTOVIDPRO", "provider": "OPENAI", "speaker": "nova", **extra,
    }})


@pytest.fixture
def vendors(
    openai_fake_server: OpenAIFake, replicate_fake_server: ReplicateFake, monkeypatch: pytest.MonkeyPatch
) -> tuple[OpenAIFake, ReplicateFake]:
    monkeypatch.setenv("REELFLOW_TASK_RETRY_DELAY", "0")
    get_settings.cache_clear()
    return openai_fake_server, replicate_fake_server


def test_flux_kling_and_openai_voice_make_the_video(vendors: tuple[OpenAIFake, ReplicateFake]) -> None:
    openai, replicate = vendors
    state = narrative(request(), return_state=True)
    assert state.is_completed(), state.message
    result: VideoResult = state.result()
    assert result.rendered_by == "openai,replicate"

    expected = [{"prompt": line, "aspect_ratio": "16:9", "seed": scene_seed(line, i), "output_format": "png"}
                for i, line in enumerate(LINES, start=1)]
    assert sorted(replicate.bodies[FLUX], key=str) == sorted(expected, key=str)
    assert sorted(b["prompt"] for b in replicate.bodies[KLING]) == sorted(LINES)
    assert all(b["duration"] == 5 and b["start_image"].startswith("data:image/jpeg") for b in replicate.bodies[KLING])
    assert sorted(b["input"] for b in openai.bodies["speech"]) == sorted(LINES)
    assert {b["voice"] for b in openai.bodies["speech"]} == {"nova"}
    assert replicate.problems == [] and openai.problems == []

    info = probe(Path(storage().path(result.video)))
    assert info.video and (info.video.width, info.video.height) == (1280, 720)
    assert all(scene.video for scene in result.scenes)


def test_injected_server_errors_are_retried_to_completion(
    vendors: tuple[OpenAIFake, ReplicateFake], monkeypatch: pytest.MonkeyPatch
) -> None:
    openai, replicate = vendors
    monkeypatch.setenv("REELFLOW_TASK_RETRIES", "8")
    get_settings.cache_clear()
    openai.fail_ratio = replicate.fail_ratio = 0.3
    state = narrative(request(), return_state=True)
    assert state.is_completed(), state.message
    assert openai.injected + replicate.injected > 0
    assert len(replicate.bodies[FLUX]) >= 3 and len(openai.bodies["speech"]) >= 3


def test_bad_credentials_fail_the_job_at_once_naming_vendor_and_cause(
    vendors: tuple[OpenAIFake, ReplicateFake]
) -> None:
    _, replicate = vendors
    replicate.status = 401
    state = narrative(request(LINES[:2]), return_state=True)
    assert state.is_failed()
    message = str(state.message)
    assert "failed for scene" in message
    assert "Replicate rejected the request: invalid API token (401)" in message
    assert TOKEN not in message and replicate.url not in message
    assert replicate.calls[CREATE] <= 2, "a 401 must not be retried"


def test_a_content_refusal_fails_the_job_with_the_vendors_reason(vendors: tuple[OpenAIFake, ReplicateFake]) -> None:
    _, replicate = vendors
    replicate.content_policy = True
    state = narrative(request(LINES[:1]), return_state=True)
    assert state.is_failed()
    assert "image_generation failed for scene 1: Replicate refused the content (content policy): NSFW content" \
        in str(state.message)
    assert replicate.calls[CREATE] == 1


def test_runway_clips_and_elevenlabs_voice(
    replicate_fake_server: ReplicateFake, runway_fake_server: RunwayFake, elevenlabs_fake_server: ElevenLabsFake
) -> None:
    state = narrative(request(LINES[:1], video_model="RUNWAYML", provider="ELEVENLABS", speaker="bella",
                              aspect_ratio="9:16"), return_state=True)
    assert state.is_completed(), state.message
    assert state.result().rendered_by == "elevenlabs,replicate,runway"
    (clip,) = runway_fake_server.bodies["image_to_video"]
    assert (clip["model"], clip["ratio"], clip["duration"]) == ("gen4_turbo", "720:1280", 5)
    assert elevenlabs_fake_server.bodies["tts"][0]["voice_id"] == "EXAVITQu4vr4xnSDxMaL"
    assert runway_fake_server.problems == [] and elevenlabs_fake_server.problems == []


def test_vendor_calls_hold_the_global_concurrency_limit_when_enabled(
    vendors: tuple[OpenAIFake, ReplicateFake], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REELFLOW_VENDOR_GCL", "true")
    get_settings.cache_clear()
    missing = narrative(request(LINES[:1], add_generative_video=False), return_state=True)
    assert missing.is_failed() and "vendor-" in str(missing.message)  # strict: the limit must exist

    names = ["vendor-openai", "vendor-replicate"]
    with get_client(sync_client=True) as client:
        for name in names:
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
    try:
        state = narrative(request(LINES[:1], add_generative_video=False), return_state=True)
        assert state.is_completed(), state.message
    finally:
        with get_client(sync_client=True) as client:
            for name in names:
                client.delete_global_concurrency_limit_by_name(name)
