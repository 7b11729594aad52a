"""The seed API driven over HTTP like a caller: auth, validation, a real job, idempotency, ownership, cancel."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from media.probe import probe, stream_durations
from tests.e2e.conftest import KEY_A, KEY_B, narrative_body, poll, terminal
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e
GOOD = narrative_body(["A lighthouse on a cliff.", "Waves crash below."])


@pytest.mark.parametrize("header", ["API_KEY", "api_key", "Api_Key"])
def test_either_header_spelling_is_accepted(stack: Stack, header: str) -> None:
    response = httpx.get(f"{stack.api_url}/v1/video/status", headers={header: KEY_A},
                         params={"request_id": str(uuid.uuid4())})
    assert response.status_code == 404
    assert "was not found" in response.json()["message"]


@pytest.mark.parametrize(("method", "path"), [("POST", "/v1/video/create_narrative"), ("GET", "/v1/video/status"),
                                              ("POST", "/v1/video/cancel")])
@pytest.mark.parametrize(("headers", "status", "message"), [
    ({}, 400, "API_KEY header is missing or empty."),
    ({"API_KEY": ""}, 400, "API_KEY header is missing or empty."),
    ({"API_KEY": "not-a-key"}, 401, "API_KEY is not valid."),
    ({"api_key": "not-a-key"}, 401, "API_KEY is not valid."),
])
def test_auth_failures(stack: Stack, method: str, path: str, headers: dict[str, str], status: int,
                       message: str) -> None:
    response = httpx.request(method, f"{stack.api_url}{path}", headers=headers, json=GOOD,
                             params={"request_id": str(uuid.uuid4())})
    assert response.status_code == status
    assert response.json() == {"message": message}


@pytest.mark.parametrize(("body", "message"), [
    (narrative_body([]), "input.prompt_list: must hold at least one non-empty line"),
    (narrative_body([f"line {i}" for i in range(21)]), "at most 20 are allowed"),
    ({"input": {"prompt_list": ["a"]}}, "input.image_model: is required"),
    (narrative_body(["a"], image_model="NOPE"), "'NOPE' is not a known image model"),
    (narrative_body(["a"], image_model="DALLE3"), "'DALLE3' is not an express model"),
    (narrative_body(["a"], add_generative_video=True), "input.video_model: is required"),
    (narrative_body(["a"], add_generative_video=True, video_model="LUMA"), "'LUMA' is not an express model"),
    (narrative_body(["a"], add_generative_video="true", video_model="RUNWAYML"), "must be true or false"),
    (narrative_body(["a"], aspect_ratio="4:3"), "input.aspect_ratio: must be one of"),
    (narrative_body(["a"], speaker="nobody"), "speaker 'nobody' is not a known voice"),
    (narrative_body(["a"], provider="PLAYHT"), "PLAYHT was shut down on 2025-12-31"),
    ({**narrative_body(["a"]), "webhookUrl": "ftp://x.example/hook"}, "webhookUrl: must be an absolute http"),
    ({"prompt_list": ["a"]}, "input: is required"),
    ([1, 2], "body: must be a JSON object"),
])
def test_every_rule_is_a_400_with_a_message(api: httpx.Client, body: Any, message: str) -> None:
    response = api.post("/v1/video/create_narrative", json=body)
    assert response.status_code == 400, response.text
    assert message in response.json()["message"]


@pytest.mark.parametrize(("content", "status", "message"), [
    (b"{not json", 400, "body: not valid JSON"),
    (b"", 400, "body: a JSON object with an 'input' object is required."),
    (json.dumps(narrative_body(["x" * 1000] * 300)).encode(), 413, "larger than 256 KiB"),
])
def test_malformed_and_oversized_bodies(api: httpx.Client, content: bytes, status: int, message: str) -> None:
    response = api.post("/v1/video/create_narrative", content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert message in response.json()["message"]


def test_status_needs_a_request_id(api: httpx.Client) -> None:
    response = api.get("/v1/video/status")
    assert response.status_code == 400
    assert response.json() == {"message": "request_id query parameter is missing."}
    assert api.get("/v1/video/status", params={"request_id": "not-a-uuid"}).status_code == 404


def test_narrative_end_to_end(api: httpx.Client, stack: Stack, tmp_path: Path) -> None:
    created = api.post("/v1/video/create_narrative", json=narrative_body(
        ["A paper boat sails down a rainy street.", "A child runs after it, laughing.", "It reaches the river."],
        speaker="alloy", provider="OPENAI", aspect_ratio="16:9"))
    assert created.status_code == 200, created.text
    request_id = created.json()["request_id"]
    seen: list[dict[str, Any]] = []
    body = poll(api, request_id, terminal, seen=seen)
    assert body["status"] == "COMPLETED", body
    progress = [b["progress"] for b in seen]
    assert all(isinstance(p, int) and 0 <= p <= 100 for p in progress)
    assert progress == sorted(progress), progress
    assert progress[-1] == 100
    assert all(p < 100 for b, p in zip(seen, progress, strict=True) if b["status"] != "COMPLETED")
    assert set(body["details"]) >= {"image_generation", "speech_generation", "frame_generation", "video_generation"}
    result = body["result"]
    assert (result["width"], result["height"], result["aspect_ratio"]) == (1280, 720, "16:9")
    assert result["rendered_by"] == "local" and len(result["scenes"]) == 3

    video = httpx.get(result["videoUrl"])  # signed: no API key needed
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    path = tmp_path / "video.mp4"
    path.write_bytes(video.content)
    info = probe(path)
    assert info.video and info.video.codec == "h264" and info.audio and info.audio.codec == "aac"
    v, a = stream_durations(path)
    assert abs(v - a) < 1 / 30 + 1e-3 and abs(v - result["duration"]) < 0.1
    srt = httpx.get(result["captions"]["srt"])
    assert srt.status_code == 200 and "-->" in srt.text and "paper boat" in srt.text.lower()

    tampered = result["videoUrl"].replace("signature=", "signature=0")
    assert httpx.get(tampered).status_code == 403
    base = result["videoUrl"].split("/v1/video/files/")[0]
    escape = f"{base}/v1/video/files/../api_key?expires=9999999999&signature=x"
    assert httpx.get(escape).status_code in (403, 404)


def test_idempotency_key_returns_the_same_request(api: httpx.Client, stack: Stack) -> None:
    key = f"idem-{uuid.uuid4()}"
    body = narrative_body(["An idempotent hello."])
    first = api.post("/v1/video/create_narrative", json=body, headers={"Idempotency-Key": key}).json()
    second = api.post("/v1/video/create_narrative", json=body, headers={"Idempotency-Key": key}).json()
    assert first["request_id"] == second["request_id"]
    with httpx.Client(base_url=stack.api_url, headers={"API_KEY": KEY_B}) as other:
        # the same Idempotency-Key from another key is another request
        third = other.post("/v1/video/create_narrative", json=body, headers={"Idempotency-Key": key}).json()
        assert third["request_id"] != first["request_id"]
        # and key B cannot see key A's request
        response = other.get("/v1/video/status", params={"request_id": first["request_id"]})
        assert response.status_code == 404 and "was not found" in response.json()["message"]
        assert other.post("/v1/video/cancel", params={"request_id": first["request_id"]}).status_code == 404
    poll(api, first["request_id"], terminal)


def test_cancel_then_finished_runs_answer_409(api: httpx.Client) -> None:
    lines = [f"Scene number {i} of a long story about a patient gardener." for i in range(12)]
    request_id = api.post("/v1/video/create_narrative", json=narrative_body(lines)).json()["request_id"]
    cancelled = api.post("/v1/video/cancel", params={"request_id": request_id})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "CANCELLED"
    body = poll(api, request_id, terminal)
    assert body["status"] == "CANCELLED"
    again = api.post("/v1/video/cancel", params={"request_id": request_id})
    assert again.status_code == 409 and "already finished" in again.json()["message"]


def test_api_restart_mid_job_keeps_the_request(api: httpx.Client, stack: Stack) -> None:
    lines = [f"Chapter {i}: the river carries the paper boat further downstream." for i in range(6)]
    request_id = api.post("/v1/video/create_narrative", json=narrative_body(lines)).json()["request_id"]
    poll(api, request_id, lambda b: b["status"] in ("IN_PROGRESS", "COMPLETED"))
    pid_file = stack.data_dir / "run" / "api.pid"
    old_pid = int(pid_file.read_text())
    os.kill(old_pid, signal.SIGKILL)
    deadline = time.monotonic() + 120
    while True:  # the supervisor brings the API back; poll until the new process answers
        try:
            if int(pid_file.read_text()) != old_pid and httpx.get(f"{stack.api_url}/health").status_code == 200:
                break
        except (httpx.TransportError, ValueError):
            pass
        assert time.monotonic() < deadline, stack.log_tail()
        time.sleep(0.2)
    body = poll(api, request_id, terminal)
    assert body["status"] == "COMPLETED", body
    assert body["result"]["videoUrl"]


def test_openapi_describes_the_endpoints(stack: Stack) -> None:
    schema = httpx.get(f"{stack.api_url}/openapi.json").json()
    assert {"/v1/video/create_narrative", "/v1/video/status", "/v1/video/cancel"} <= set(schema["paths"])
    create = schema["paths"]["/v1/video/create_narrative"]["post"]
    headers = {p["name"] for p in create["parameters"] if p["in"] == "header"}
    assert {"API_KEY", "Idempotency-Key"} <= headers
    assert {"400", "401", "413"} <= set(create["responses"]) and "422" not in create["responses"]
    assert "NarrativeRequest" in schema["components"]["schemas"]
    assert httpx.get(f"{stack.api_url}/docs").status_code == 200
