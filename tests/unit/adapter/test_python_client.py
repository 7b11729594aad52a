"""``reelflow_client`` against the API app in-process (it has no job store) and against a real HTTP server
answering the documented ``GET /v1/video/requests`` shape: typed errors carry the API's own message."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelflow_client import (
    BadRequest,
    Conflict,
    JobFailed,
    NotFound,
    ReelflowClient,
    RequestPage,
    ServerError,
    ServiceUnreachable,
    TooManyRequests,
    Unauthorized,
    WaitTimeout,
)
from tests.unit.adapter.conftest import closed_port
from tests.unit.adapter.scripted_api import ScriptedApi, scripted_api

KEY = "unit-test-key-0123456789"  # the key the conftest client knows
GOOD = {"input": {"prompt_list": ["A lighthouse at dawn."], "image_model": "FLUX1.1PRO"}}


def api(client: TestClient, key: str = KEY) -> ReelflowClient:
    return ReelflowClient(key, "http://testserver", http_client=client)


def test_an_empty_key_is_a_bad_request_with_the_api_message(client: TestClient) -> None:
    with pytest.raises(BadRequest) as caught:
        api(client, key="").status(str(uuid.uuid4()))
    assert caught.value.status_code == 400
    assert caught.value.message == "API_KEY header is missing or empty."


def test_an_unknown_key_is_unauthorized(client: TestClient) -> None:
    with pytest.raises(Unauthorized) as caught:
        api(client, key="not-a-key").create_narrative(GOOD)
    assert str(caught.value) == "API_KEY is not valid."


def test_a_contract_rule_is_a_bad_request_naming_the_field(client: TestClient) -> None:
    with pytest.raises(BadRequest) as caught:
        api(client).create_narrative({"input": {"prompt_list": [], "image_model": "FLUX1.1PRO"}})
    assert caught.value.message.startswith("input.prompt_list: must hold at least one non-empty line")


def test_a_movie_rule_is_a_bad_request_too(client: TestClient) -> None:
    with pytest.raises(BadRequest) as caught:
        api(client).create_movie({"input": {"prompt": "A fox.", "image_model": "FLUX1.1PRO",
                                            "video_model": "KLINGIMGTOVIDPRO", "duration": 500}})
    assert "at most 120 seconds" in caught.value.message


def test_the_api_without_its_job_store_is_a_server_error_carrying_the_api_message(client: TestClient) -> None:
    """The in-process API has no job store (intake database, Prefect): 503, and the client keeps its message."""
    raw = client.post("/v1/video/create_narrative", json=GOOD, headers={"API_KEY": KEY})
    assert raw.status_code == 503
    with pytest.raises(ServerError) as caught:
        api(client).create_narrative(GOOD)
    assert caught.value.status_code == 503
    assert caught.value.message == raw.json()["message"]


def test_nothing_listening_is_service_unreachable_naming_the_url() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    with ReelflowClient(KEY, url) as client, pytest.raises(ServiceUnreachable) as caught:
        client.status(str(uuid.uuid4()))
    assert caught.value.url == url
    assert str(caught.value).startswith(f"the reelflow API is not reachable at {url}")


@pytest.fixture
def scripted() -> Iterator[ScriptedApi]:
    with scripted_api() as server:
        yield server


def test_list_sends_the_filters_and_the_key_and_reads_a_page(scripted: ScriptedApi) -> None:
    rows = [{"request_id": "b", "status": "COMPLETED", "progress": 100, "kind": "narrative"}]
    scripted.answer("/v1/video/requests", (200, {"requests": rows, "next_cursor": "c2"}))
    with ReelflowClient(KEY, scripted.url) as client:
        page = client.list(status="COMPLETED", cursor="c1", limit=2)
    assert page == RequestPage(requests=rows, next_cursor="c2")
    assert scripted.seen[0].query == {"status": "COMPLETED", "cursor": "c1", "limit": "2"}
    assert scripted.seen[0].headers["api_key"] == KEY


def test_an_unknown_id_is_not_found_with_the_api_message(scripted: ScriptedApi) -> None:
    scripted.answer("/v1/video/cancel", (404, {"message": "request nope was not found."}))
    with ReelflowClient(KEY, scripted.url) as client, pytest.raises(NotFound) as caught:
        client.cancel("nope")
    assert caught.value.message == "request nope was not found."
    assert scripted.seen[0].query == {"request_id": "nope"}


def test_a_server_without_the_list_endpoint_is_not_found(scripted: ScriptedApi) -> None:
    with ReelflowClient(KEY, scripted.url) as client, pytest.raises(NotFound):
        client.list()


def test_wait_returns_the_final_status_and_download_streams_the_video(scripted: ScriptedApi, tmp_path: Path) -> None:
    """Against a server answering the documented /status bodies: IN_PROGRESS, then COMPLETED with a signed link."""
    video = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64
    running = {"request_id": "r1", "status": "IN_PROGRESS", "progress": 40, "stage": "image_generation"}
    done = {"request_id": "r1", "status": "COMPLETED", "progress": 100, "stage": None,
            "result": {"videoUrl": f"{scripted.url}/v1/video/files/r1/video.mp4?expires=1&signature=s"}}
    scripted.answer("/v1/video/status", (200, running), (200, done))
    scripted.answer("/v1/video/files/r1/video.mp4", (200, video))
    seen: list[str] = []
    with ReelflowClient(KEY, scripted.url) as client:
        final = client.wait("r1", poll_interval=0.01, on_update=lambda s: seen.append(f"{s.status}:{s.progress}"))
        path = client.download("r1", tmp_path / "v.mp4")
    assert seen == ["IN_PROGRESS:40", "COMPLETED:100"]
    assert final.video_url == done["result"]["videoUrl"]
    assert path.read_bytes() == video
    assert scripted.seen[-1].path == "/v1/video/files/r1/video.mp4"
    assert scripted.seen[-2].headers["api_key"] == KEY  # the API calls carry the key
    assert "api_key" not in scripted.seen[-1].headers  # the signed link is fetched without it


def test_wait_raises_job_failed_with_the_api_message_when_asked(scripted: ScriptedApi) -> None:
    failed = {"request_id": "r2", "status": "FAILED", "progress": 30, "message": "image_generation failed on scene 2"}
    scripted.answer("/v1/video/status", (200, failed))
    with ReelflowClient(KEY, scripted.url) as client:
        assert client.wait("r2").status == "FAILED"
        with pytest.raises(JobFailed) as caught:
            client.wait("r2", raise_on_failure=True)
    assert caught.value.status.message == "image_generation failed on scene 2"


def test_a_429_carries_retry_after(scripted: ScriptedApi) -> None:
    scripted.answer("/v1/video/create_narrative", (429, {"message": "too many jobs in flight for this key"}))
    with ReelflowClient(KEY, scripted.url) as client, pytest.raises(TooManyRequests) as caught:
        client.create_narrative(GOOD)
    assert caught.value.message == "too many jobs in flight for this key"


def test_wait_gives_up_after_its_timeout_with_the_last_status(scripted: ScriptedApi) -> None:
    running = {"request_id": "r3", "status": "PENDING", "progress": 0}
    scripted.answer("/v1/video/status", (200, running))
    with ReelflowClient(KEY, scripted.url) as client, pytest.raises(WaitTimeout) as caught:
        client.wait("r3", poll_interval=0.01, timeout=0.05)
    assert caught.value.last.status == "PENDING"
    assert len(scripted.seen) >= 2  # it polled, then gave up


def test_download_of_an_unfinished_job_is_a_conflict_saying_to_wait(scripted: ScriptedApi, tmp_path: Path) -> None:
    scripted.answer("/v1/video/status", (200, {"request_id": "r4", "status": "IN_PROGRESS", "progress": 10}))
    with ReelflowClient(KEY, scripted.url) as client, pytest.raises(Conflict) as caught:
        client.download("r4", tmp_path / "x.mp4")
    assert caught.value.message == "request r4 is IN_PROGRESS, not COMPLETED yet; wait for it first"
    assert not (tmp_path / "x.mp4").exists()
