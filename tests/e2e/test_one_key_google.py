"""One vendor key is enough, on the real stack (PostgreSQL, Prefect server, runner, API) over HTTP like a caller.

A server configured with a single vendor key, the real SDK pointed at an in-process fake (the OpenAI-only server
is in test_one_key_openai.py; each module's stack stops when its module ends):

Google-only (``GEMINI_API_KEY``): a narrative with Veo clips and a 12 s VEO3.1I2V movie complete (the file lasts
12.0 ± 0.1 s, picture and sound in sync); 30 % injected 5xx are absorbed by retries; a 401 fails the job at once
naming Google and ``GEMINI_API_KEY``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from media.probe import stream_durations
from tests.e2e.conftest import KEY_A, WEBHOOK_SECRET, poll, terminal
from tests.e2e.stack import Stack, start_stack
from tests.e2e.test_vendor_stack import _reset
from tests.fakes import gemini_fake
from tests.fakes.gemini_fake import FETCH, GENERATE, GeminiFake

pytestmark = pytest.mark.e2e
JOB_TIMEOUT = 180.0
PROMPT = "A paper boat sails down a rainy street. A child runs after it. It reaches the river."
BASE_ENV = {"REELFLOW_API_KEYS": KEY_A, "REELFLOW_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "REELFLOW_PROVIDER_POLL_INTERVAL": "0.02", "REELFLOW_PROVIDER_TIMEOUT": "10",
            "REELFLOW_TASK_RETRIES": "8", "REELFLOW_TASK_RETRY_DELAY": "0.2"}


@pytest.fixture(scope="module")
def google() -> Iterator[GeminiFake]:
    fake = GeminiFake().start()
    yield fake
    fake.stop()


def _client(stack: Stack) -> httpx.Client:
    return httpx.Client(base_url=stack.api_url, headers={"API_KEY": KEY_A}, timeout=30)


@pytest.fixture(scope="module")
def google_api(tmp_path_factory: pytest.TempPathFactory, google: GeminiFake) -> Iterator[httpx.Client]:
    env = {**BASE_ENV, "GEMINI_API_KEY": gemini_fake.KEY, "GOOGLE_GEMINI_BASE_URL": google.url,
           "GOOGLE_VERTEX_BASE_URL": google.url}
    with start_stack(tmp_path_factory.mktemp("google-only"), env) as stack, _client(stack) as client:
        yield client


@pytest.fixture
def gfake(google: GeminiFake, google_api: httpx.Client) -> GeminiFake:
    """The Google fake with knobs and counters reset (the stack is up, so nothing else calls it now)."""
    _reset(google)
    google.video_polls = 2
    return google


def run(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    created = client.post(f"/v1/video/{path}", json=body)
    assert created.status_code == 200, created.text
    return poll(client, created.json()["request_id"], terminal, timeout=JOB_TIMEOUT)


def veo_narrative(lines: list[str]) -> dict[str, Any]:
    """Names no voice: a Google-only server narrates with its own (GEMINI) voice."""
    return {"input": {"prompt_list": lines, "image_model": "NANOBANANA2", "add_generative_video": True,
                      "video_model": "VEO3.1I2V"}}


def check_twelve_seconds(result: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "movie.mp4"
    path.write_bytes(httpx.get(result["videoUrl"], timeout=30).content)
    video_s, audio_s = stream_durations(path)
    assert abs(video_s - 12.0) <= 0.1, video_s
    assert abs(video_s - audio_s) <= 1 / 30 + 1e-3, (video_s, audio_s)


def test_google_only_narrative_with_generative_video(gfake: GeminiFake, google_api: httpx.Client) -> None:
    body = run(google_api, "create_narrative", veo_narrative(["A lighthouse on a cliff.", "A boat turns home."]))
    assert body["status"] == "COMPLETED", body
    assert body["result"]["renderers"] == {"image": "google", "voice": "google", "video": "google"}
    assert [s["rendered_by"] for s in body["result"]["scenes"]] == [
        {"image": "google", "voice": "google", "video": "google"}] * 2
    assert body["message"] == "All done!"
    assert sorted(b["instances"][0]["prompt"] for b in gfake.bodies["veo"]) == ["A boat turns home.",
                                                                                "A lighthouse on a cliff."]
    assert {b["parameters"]["durationSeconds"] for b in gfake.bodies["veo"]} <= {4, 6, 8}
    assert gfake.calls[f"POST {FETCH}"] >= 4  # each operation polled by our code until done
    assert gfake.problems == []


def test_google_only_twelve_second_veo_movie(gfake: GeminiFake, google_api: httpx.Client, tmp_path: Path) -> None:
    body = run(google_api, "create_movie", {"input": {"prompt": PROMPT, "image_model": "IMAGEN4",
                                                      "video_model": "VEO3.1I2V", "duration": 12}})
    assert body["status"] == "COMPLETED", body
    check_twelve_seconds(body["result"], tmp_path)
    assert [s["duration"] for s in body["result"]["scenes"]] == [4.0, 8.0]
    assert sorted(b["parameters"]["durationSeconds"] for b in gfake.bodies["veo"]) == [4, 8]
    assert len(gfake.bodies["generate:gemini-2.5-flash"]) == 1  # the script, written by Gemini
    assert body["result"]["rendered_by"] == "google"
    assert gfake.problems == []


def test_google_server_errors_on_30_percent_of_calls_still_complete(
    gfake: GeminiFake, google_api: httpx.Client
) -> None:
    gfake.fail_ratio = 0.3
    body = run(google_api, "create_narrative", veo_narrative(["A heron wades.", "It spears a fish."]))
    assert body["status"] == "COMPLETED", body
    assert gfake.injected > 0
    assert gfake.problems == []


def test_a_google_401_fails_at_once_naming_the_vendor_and_the_variable(
    gfake: GeminiFake, google_api: httpx.Client
) -> None:
    gfake.status = 401
    body = run(google_api, "create_narrative", veo_narrative(["An owl blinks in the dark."]))
    assert body["status"] == "FAILED", body
    assert "Google rejected the request: invalid API key (401); check GEMINI_API_KEY" in body["message"]
    assert gemini_fake.KEY not in body["message"]
    assert gfake.calls[f"POST {GENERATE}"] <= 2, "a 401 must not be retried"


