"""The real stack (PostgreSQL, Prefect server, runner, API) on the real vendor SDKs pointed at local fakes.

The same scenarios as tests/flows/test_vendor_flow.py, but driven over HTTP like a caller: FLUX1.1PRO stills and
KLINGIMGTOVIDPRO clips on Replicate with OpenAI narration complete and the signed link downloads the MP4; injected
5xx are absorbed by retries; a 401 and a content refusal fail the job at once with the vendor and the cause named.
The fakes run in this process and the stack is shared by the module, so every test sets its faults on the running
fakes (knobs) and an autouse fixture resets knobs and counters before each test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from media.probe import probe
from tests.e2e.conftest import KEY_A, WEBHOOK_SECRET, narrative_body, poll, terminal
from tests.e2e.stack import Stack, start_stack
from tests.fakes import openai_fake, replicate_fake
from tests.fakes.openai_fake import OpenAIFake
from tests.fakes.replicate_fake import ReplicateFake
from tests.fakes.server import FakeServer

pytestmark = pytest.mark.e2e

FLUX = "black-forest-labs/flux-1.1-pro"
KLING = "kwaivgi/kling-v1.6-pro"
CREATE = r"POST /v1/models/(?P<owner>[\w.\-]+)/(?P<name>[\w.\-]+)/predictions"
JOB_TIMEOUT = 60.0


@pytest.fixture(scope="module")
def fakes() -> Iterator[tuple[OpenAIFake, ReplicateFake]]:
    openai, replicate = OpenAIFake().start(), ReplicateFake().start()
    yield openai, replicate
    openai.stop()
    replicate.stop()


@pytest.fixture(scope="module")
def vendor_stack(tmp_path_factory: pytest.TempPathFactory, fakes: tuple[OpenAIFake, ReplicateFake]) -> Iterator[Stack]:
    openai, replicate = fakes
    env = {
        "REELFLOW_API_KEYS": KEY_A,
        "REELFLOW_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "OPENAI_API_KEY": openai_fake.KEY,
        "OPENAI_BASE_URL": openai.base_url,
        "REPLICATE_API_TOKEN": replicate_fake.TOKEN,
        "REPLICATE_BASE_URL": replicate.url,
        "REELFLOW_PROVIDER_POLL_INTERVAL": "0.02",
        "REELFLOW_PROVIDER_TIMEOUT": "10",
        "REELFLOW_TASK_RETRIES": "8",
        "REELFLOW_TASK_RETRY_DELAY": "0.2",
    }
    with start_stack(tmp_path_factory.mktemp("vendor-stack"), env) as stack:
        yield stack


@pytest.fixture(scope="module")
def client(vendor_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=vendor_stack.api_url, headers={"API_KEY": KEY_A}, timeout=30) as c:
        yield c


def _reset(fake: FakeServer) -> None:
    with fake._lock:
        fake.calls.clear()
        fake.bodies.clear()
        fake.problems.clear()
        fake.injected = 0
        fake._streak.clear()
    fake.fail_ratio, fake.status, fake.content_policy, fake.stall = 0.0, None, False, 0.0


@pytest.fixture
def vendors(fakes: tuple[OpenAIFake, ReplicateFake], client: httpx.Client) -> tuple[OpenAIFake, ReplicateFake]:
    """The running fakes with knobs and counters reset (the stack is up, so nothing else calls them now)."""
    for fake in fakes:
        _reset(fake)
    return fakes


def run(client: httpx.Client, lines: list[str], **extra: Any) -> dict[str, Any]:
    body = narrative_body(lines, add_generative_video=True, video_model="KLINGIMGTOVIDPRO", provider="OPENAI",
                          speaker="nova", **extra)
    created = client.post("/v1/video/create_narrative", json=body)
    assert created.status_code == 200, created.text
    return poll(client, created.json()["request_id"], terminal, timeout=JOB_TIMEOUT)


def test_flux_kling_and_openai_voice_make_the_video(
    vendors: tuple[OpenAIFake, ReplicateFake], client: httpx.Client, tmp_path: Path
) -> None:
    openai, replicate = vendors
    lines = ["A red fox trots across a snowy field.", "It stops and listens.", "Then it pounces."]
    body = run(client, lines)
    assert body["status"] == "COMPLETED", body
    result = body["result"]
    assert result["rendered_by"] == "openai,replicate"
    assert (result["width"], result["height"]) == (1280, 720) and len(result["scenes"]) == 3

    assert sorted(b["prompt"] for b in replicate.bodies[FLUX]) == sorted(lines)
    assert all(b["aspect_ratio"] == "16:9" and b["output_format"] == "png" and isinstance(b["seed"], int)
               for b in replicate.bodies[FLUX])
    assert sorted(b["prompt"] for b in replicate.bodies[KLING]) == sorted(lines)
    assert all(b["duration"] == 5 and b["start_image"].startswith("data:image/jpeg") for b in replicate.bodies[KLING])
    assert sorted(b["input"] for b in openai.bodies["speech"]) == sorted(lines)
    assert {b["voice"] for b in openai.bodies["speech"]} == {"nova"}
    assert replicate.problems == [] and openai.problems == []

    video = httpx.get(result["videoUrl"], timeout=30)  # signed: no API key needed
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    path = tmp_path / "video.mp4"
    path.write_bytes(video.content)
    info = probe(path)
    assert info.video and info.video.codec == "h264" and (info.video.width, info.video.height) == (1280, 720)
    assert info.audio


def test_injected_server_errors_are_retried_to_completion(
    vendors: tuple[OpenAIFake, ReplicateFake], client: httpx.Client
) -> None:
    openai, replicate = vendors
    openai.fail_ratio = replicate.fail_ratio = 0.3
    lines = ["A heron wades through the shallows.", "It spears a fish."]
    body = run(client, lines)
    assert body["status"] == "COMPLETED", body
    assert openai.injected + replicate.injected > 0
    assert len(replicate.bodies[FLUX]) >= 2 and len(openai.bodies["speech"]) >= 2
    assert replicate.problems == [] and openai.problems == []


def test_bad_credentials_fail_the_job_at_once_naming_vendor_and_cause(
    vendors: tuple[OpenAIFake, ReplicateFake], client: httpx.Client
) -> None:
    _, replicate = vendors
    replicate.status = 401
    body = run(client, ["An owl blinks in the dark.", "It takes flight."])
    assert body["status"] == "FAILED", body
    message = body["message"]
    assert "failed for scene" in message
    assert "Replicate rejected the request: invalid API token (401)" in message
    assert replicate_fake.TOKEN not in message and replicate.url not in message
    assert replicate.calls[CREATE] <= 2, "a 401 must not be retried"


def test_a_content_refusal_fails_the_job_with_the_vendors_reason(
    vendors: tuple[OpenAIFake, ReplicateFake], client: httpx.Client
) -> None:
    _, replicate = vendors
    replicate.content_policy = True
    body = run(client, ["A storm rolls over the hills."])
    assert body["status"] == "FAILED", body
    assert "image_generation failed for scene 1: Replicate refused the content (content policy): NSFW content" \
        in body["message"]
    assert replicate.calls[CREATE] == 1
