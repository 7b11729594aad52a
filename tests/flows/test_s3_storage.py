"""The narrative flow on S3 (a moto server over HTTP): media, cache and Prefect results in the bucket, presigned
links, and a cache record dropped when the asset it points at is gone from the bucket."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.filesystems import RemoteFileSystem
from prefect.states import State

from core.contract import parse_narrative
from core.links import link
from core.results import VideoResult
from core.settings import get_settings
from flows.narrative import narrative
from media.probe import probe
from tasks.common import result_storage, storage
from tests.fakes.s3_server import MotoS3


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoS3]:
    server = MotoS3().start()
    for name, value in server.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("REELFLOW_STORAGE_URL", f"s3://{server.bucket}/media")
    get_settings.cache_clear()
    yield server
    server.stop()


def task_states(state: State[Any]) -> dict[str, str]:
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id])))
    return {run.name: run.state.name for run in runs if run.state}


def test_narrative_on_s3_publishes_to_the_bucket_with_presigned_links(s3: MotoS3, tmp_path: Any) -> None:
    request = parse_narrative({"input": {"prompt_list": ["A heron waits in the reeds."], "image_model": "FLUX1.1PRO"}})
    state = narrative(request, return_state=True)
    assert state.is_completed(), state.message
    result: VideoResult = state.result()

    keys = s3.keys()
    assert f"media/{result.video}" in keys and f"media/{result.srt}" in keys
    assert any(k.startswith("media/cache/") and k.endswith(".png") for k in keys)
    assert any(k.startswith("media/prefect-results/") for k in keys), "task results are persisted to the bucket"
    block = result_storage()
    assert isinstance(block, RemoteFileSystem) and block.basepath == f"s3://{s3.bucket}/media/prefect-results"

    url = link(result.video)
    assert url.startswith(f"{s3.endpoint}/{s3.bucket}/media/jobs/") and "X-Amz-Signature=" in url
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url  # SigV4: what S3 accepts for every bucket
    download = tmp_path / "video.mp4"
    download.write_bytes(httpx.get(url).raise_for_status().content)
    info = probe(download)
    assert info.video is not None and info.video.codec == "h264" and info.audio is not None

    # The image's cache record lives in the bucket; delete the image and the rerun must draw it again.
    image = result.scenes[0].image
    storage().fs.rm(storage().path(image))
    again = narrative(request, return_state=True)
    assert again.is_completed(), again.message
    states = task_states(again)
    assert states["image-1"] == "Completed", states  # the stale record was dropped: not "Cached"
    assert states["voice-1"] == "Cached", states
    assert storage().exists(image)
