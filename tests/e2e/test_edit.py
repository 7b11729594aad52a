"""POST /v1/video/edit through the real stack: rerolls, a new line, a caller's still, bad files, the 404/409/400s.

One original narrative is rendered once for the module; every test edits it (an edit never changes its original).
Which work an edit redid is read from Prefect's REST API (task-run states, as the UI shows them: ``Cached`` for a
reused asset); exact provider-call counts are proven in tests/flows/test_edit_flow.py, in-process.
"""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import imageio_ffmpeg
import numpy as np
import pysubs2
import pytest
from PIL import Image

from tests.e2e.conftest import KEY_B, narrative_body, poll, recorded, terminal
from tests.e2e.media_server import MediaServer, media_server
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e
LINES = ["A lighthouse stands on a cliff.", "Gulls circle over the harbour.", "Night falls on the quiet sea."]
RED = (230, 20, 20)


def solid_png(rgb: tuple[int, int, int], size: tuple[int, int] = (640, 360)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, rgb).save(buffer, format="PNG")
    return buffer.getvalue()


def frame_at(video: bytes, seconds: float, tmp: Path) -> np.ndarray:
    """The decoded RGB frame at ``seconds`` (1280×720)."""
    path = tmp / f"v{abs(hash(video))}.mp4"
    path.write_bytes(video)
    raw = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-ss", f"{seconds:.3f}", "-i", str(path),
                          "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(720, 1280, 3)


def starts(result: dict[str, Any]) -> list[float]:
    """Where each scene starts in the joined video."""
    out, at = [], 0.0
    for scene in result["scenes"]:
        out.append(at)
        at += scene["duration"]
    return out


@pytest.fixture(scope="module")
def media() -> Iterator[MediaServer]:
    with media_server() as server:
        yield server


@pytest.fixture(scope="module")
def original(api: httpx.Client) -> dict[str, Any]:
    created = api.post("/v1/video/create_narrative", json=narrative_body(LINES))
    assert created.status_code == 200, created.text
    body = poll(api, created.json()["request_id"], terminal)
    assert body["status"] == "COMPLETED", body
    return body


def edit_and_wait(api: httpx.Client, request_id: str, scenes: dict[str, Any]) -> dict[str, Any]:
    created = api.post("/v1/video/edit", json={"request_id": request_id, "scenes": scenes})
    assert created.status_code == 200, created.text
    return poll(api, created.json()["request_id"], terminal)


FINAL = {"Completed", "Cached", "Failed", "Crashed", "Cancelled"}


def states_of(stack: Stack, request_id: str, prefix: str, count: int = 3) -> dict[str, str]:
    """Task-run name → state (as the Prefect UI shows it) of the request's flow run, for names with ``prefix``,
    once ``count`` of them (one per scene) are recorded in a final state."""
    return recorded(lambda: _states(stack, request_id, prefix),
                    lambda found: len(found) >= count and set(found.values()) <= FINAL)


def _states(stack: Stack, request_id: str, prefix: str) -> dict[str, str]:
    runs = httpx.post(f"{stack.prefect_api_url}/flow_runs/filter", json={
        "flow_runs": {"tags": {"all_": [f"request:{request_id}"]}}, "limit": 2}).raise_for_status().json()
    assert len(runs) == 1, runs  # the dispatcher made exactly one run for the request
    response = httpx.post(f"{stack.prefect_api_url}/task_runs/filter",
                          json={"flow_runs": {"id": {"any_": [runs[0]["id"]]}}, "limit": 200})
    response.raise_for_status()
    return {run["name"]: run["state"]["name"] for run in response.json()
            if run.get("state") and run["name"].startswith(prefix)}


def test_rerolling_one_image_redraws_only_that_still(api: httpx.Client, stack: Stack,
                                                     original: dict[str, Any]) -> None:
    body = edit_and_wait(api, original["request_id"], {"2": {"reroll": "image"}})
    assert body["status"] == "COMPLETED", body
    result = body["result"]
    assert result["edited_from"] == original["request_id"]
    assert [s["reused"] for s in result["scenes"]] == [True, False, True]
    assert states_of(stack, body["request_id"], "image-") == {"image-1": "Cached", "image-2": "Completed",
                                                              "image-3": "Cached"}
    assert set(states_of(stack, body["request_id"], "voice-").values()) == {"Cached"}
    assert states_of(stack, body["request_id"], "video-", 0) == {}, "no clip work in a still-only narrative"
    assert states_of(stack, body["request_id"], "scene-") == {"scene-1": "Cached", "scene-2": "Completed",
                                                              "scene-3": "Cached"}
    old, new = original["result"]["scenes"], result["scenes"]
    assert httpx.get(new[0]["imageUrl"]).content == httpx.get(old[0]["imageUrl"]).content
    assert httpx.get(new[1]["imageUrl"]).content != httpx.get(old[1]["imageUrl"]).content
    assert result["duration"] == original["result"]["duration"], "a new still does not move any narration"


def test_changing_one_line_renarrates_that_scene_only(api: httpx.Client, stack: Stack, original: dict[str, Any],
                                                      tmp_path: Path) -> None:
    line = "Suddenly a whale breaches beside the little red boat, and the gulls scatter."
    body = edit_and_wait(api, original["request_id"], {"2": {"text": line}})
    assert body["status"] == "COMPLETED", body
    result, before = body["result"], original["result"]
    assert set(states_of(stack, body["request_id"], "image-").values()) == {"Cached"}
    assert states_of(stack, body["request_id"], "voice-") == {"voice-1": "Cached", "voice-2": "Completed",
                                                              "voice-3": "Cached"}
    assert states_of(stack, body["request_id"], "scene-") == {"scene-1": "Cached", "scene-2": "Completed",
                                                              "scene-3": "Cached"}
    assert result["scenes"][1]["text"] == line
    assert [s["duration"] for s in result["scenes"]][::2] == [s["duration"] for s in before["scenes"]][::2]
    grown = result["scenes"][1]["duration"] - before["scenes"][1]["duration"]
    assert abs((result["duration"] - before["duration"]) - grown) <= 2 / 30, "only scene 2's length changed"

    srt = pysubs2.SSAFile.from_string(httpx.get(result["captions"]["srt"]).text)
    begin, end = starts(result)[1], starts(result)[1] + result["scenes"][1]["duration"]
    def words(text: str) -> set[str]:
        return {w.strip(",.").lower() for w in text.split()}

    assert "gulls circle" not in " ".join(e.plaintext.replace("\n", " ") for e in srt).lower()
    assert srt.events, "captions were written"
    for event in srt:
        in_scene_2 = begin - 0.05 <= event.start / 1000 and event.end / 1000 <= end + 0.05
        said = words(event.plaintext.replace("\n", " "))
        if in_scene_2:
            assert said <= words(line), (event.plaintext, event.start, event.end)
        else:
            assert said <= words(LINES[0]) | words(LINES[2]), (event.plaintext, event.start, event.end)
    assert words(line) <= set().union(*(words(e.plaintext.replace("\n", " ")) for e in srt))

    new_video, old_video = httpx.get(result["videoUrl"]).content, httpx.get(before["videoUrl"]).content
    caption_band = slice(520, 720)  # burned captions sit in the lower part of the frame
    same = frame_at(new_video, 0.5, tmp_path)[caption_band].astype(int) - frame_at(old_video, 0.5, tmp_path)[
        caption_band]
    assert np.abs(same).mean() < 1.0, "scene 1 (and its burned captions) is the original's"
    mid = begin + 0.8
    changed = frame_at(new_video, mid, tmp_path)[caption_band].astype(int) - frame_at(
        old_video, starts(before)[1] + 0.8, tmp_path)[caption_band]
    assert np.abs(changed).mean() > 1.0, "scene 2's burned captions show the new line"


def test_a_callers_image_replaces_scene_2s_still(api: httpx.Client, stack: Stack, original: dict[str, Any],
                                                 media: MediaServer, tmp_path: Path) -> None:
    media.files["/red.png"] = (solid_png(RED), "image/png")
    body = edit_and_wait(api, original["request_id"], {"2": {"image_url": media.url("/red.png")}})
    assert body["status"] == "COMPLETED", body
    result = body["result"]
    assert media.hits["/red.png"] == 1
    assert states_of(stack, body["request_id"], "image-") == {"image-1": "Cached", "image-url-2": "Completed",
                                                              "image-3": "Cached"}
    assert httpx.get(result["scenes"][1]["imageUrl"]).content == media.files["/red.png"][0]
    assert result["scenes"][1]["rendered_by"]["image"] == "caller"
    video = httpx.get(result["videoUrl"]).content
    top = slice(0, 400)  # above the captions
    scene_2 = frame_at(video, starts(result)[1] + result["scenes"][1]["duration"] / 2, tmp_path)[top]
    assert np.abs(scene_2.reshape(-1, 3).mean(axis=0) - np.array(RED)).max() < 12, scene_2.reshape(-1, 3).mean(0)
    scene_1 = frame_at(video, result["scenes"][0]["duration"] / 2, tmp_path)[top]
    assert np.abs(scene_1.reshape(-1, 3).mean(axis=0) - np.array(RED)).max() > 40, "scene 1 keeps its own still"


@pytest.mark.parametrize(("body", "kind", "reason"), [
    (b"\x89PNG\r\n\x1a\n" + b"definitely not the rest of a png" * 8, "image/png", "is not a readable PNG"),
    (b"\0" * (1024 * 1024 + 10), "image/png", "is larger than 1 MB (REELFLOW_MAX_MEDIA_MB)"),
    (b"<html>hi</html>", "text/html", "content type 'text/html' is not allowed"),
])
def test_a_bad_caller_file_fails_the_job_naming_scene_2(api: httpx.Client, original: dict[str, Any],
                                                        media: MediaServer, body: bytes, kind: str,
                                                        reason: str) -> None:
    path = f"/bad-{len(body)}-{kind.replace('/', '-')}"
    media.files[path] = (body, kind)
    status = edit_and_wait(api, original["request_id"], {"2": {"image_url": media.url(path)}})
    assert status["status"] == "FAILED", status
    assert "image_generation failed for scene 2: image_url:" in status["message"], status["message"]
    assert reason in status["message"], status["message"]


def test_edit_validation_against_real_jobs(api: httpx.Client, stack: Stack, original: dict[str, Any]) -> None:
    rid = original["request_id"]
    unknown = api.post("/v1/video/edit", json={"request_id": "0b0c8a3e-5d5e-4f0e-9a51-7d1f2f6d1a11",
                                               "scenes": {"1": {"reroll": "image"}}})
    assert unknown.status_code == 404, unknown.text
    other = httpx.post(f"{stack.api_url}/v1/video/edit", headers={"API_KEY": KEY_B},
                       json={"request_id": rid, "scenes": {"1": {"reroll": "image"}}})
    assert other.status_code == 404, other.text
    assert other.json()["message"] == unknown.json()["message"].replace("0b0c8a3e-5d5e-4f0e-9a51-7d1f2f6d1a11", rid)
    out_of_range = api.post("/v1/video/edit", json={"request_id": rid, "scenes": {"4": {"reroll": "image"}}})
    assert out_of_range.status_code == 400
    assert out_of_range.json()["message"] == f"scenes.4: request {rid} has 3 scenes (1–3)"
    clip = api.post("/v1/video/edit", json={"request_id": rid, "scenes": {"1": {"reroll": "clip"}}})
    assert clip.status_code == 400 and "scenes.1.reroll" in clip.json()["message"]
    running = api.post("/v1/video/create_narrative", json=narrative_body(["A slow sunrise over the dunes."]))
    busy = api.post("/v1/video/edit", json={"request_id": running.json()["request_id"],
                                            "scenes": {"1": {"reroll": "image"}}})
    assert busy.status_code == 409, busy.text
    assert "only a COMPLETED video can be edited" in busy.json()["message"]
    api.post("/v1/video/cancel", params={"request_id": running.json()["request_id"]})


def test_create_narrative_takes_a_callers_image_up_front(api: httpx.Client, media: MediaServer,
                                                         tmp_path: Path) -> None:
    green = (20, 200, 40)
    media.files["/green.png"] = (solid_png(green, (400, 400)), "image/png")
    created = api.post("/v1/video/create_narrative", json=narrative_body([
        {"text": "A green field in spring.", "image_url": media.url("/green.png")}, "A grey sky above the field."]))
    assert created.status_code == 200, created.text
    body = poll(api, created.json()["request_id"], terminal)
    assert body["status"] == "COMPLETED", body
    result = body["result"]
    assert result["scenes"][0]["text"] == "A green field in spring."
    assert "edited_from" not in result and "reused" not in result["scenes"][0], "a create is no edit"
    frame = frame_at(httpx.get(result["videoUrl"]).content, result["scenes"][0]["duration"] / 2, tmp_path)[0:400]
    assert np.abs(frame.reshape(-1, 3).mean(axis=0) - np.array(green)).max() < 12, frame.reshape(-1, 3).mean(0)
