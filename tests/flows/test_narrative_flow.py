"""The narrative flow on the local renderers: a real file, a fully cached rerun, and resume after a failure."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.states import State

from core.contract import parse_narrative
from core.jobstate import run_name
from core.results import VideoResult
from core.settings import get_settings
from flows.narrative import narrative
from media.probe import probe, stream_durations
from providers.registry import CALLS
from tasks.common import storage
from tasks.video import video_facts_key

LINES = ["A red fox trots across a snowy field.", "It stops and listens to the wind.", "Then it pounces."]


def request(**extra: Any) -> Any:
    return parse_narrative({"input": {"prompt_list": LINES, "image_model": "FLUX1.1PRO", **extra}})


def task_states(state: State[Any]) -> dict[str, str]:
    """Task-run name → state name, for the flow run that produced ``state``."""
    with get_client(sync_client=True) as client:
        only_this_run = FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
        runs = client.read_task_runs(flow_run_filter=only_this_run)
    return {run.name: run.state.name for run in runs if run.state}


def test_three_scenes_make_a_valid_video_and_a_rerun_is_fully_cached() -> None:
    before = CALLS.copy()
    state = narrative(request(), return_state=True)
    assert state.is_completed(), state.message
    result: VideoResult = state.result()
    assert CALLS["image"] - before["image"] == 3 and CALLS["speech"] - before["speech"] == 3

    path = Path(storage().path(result.video))
    info = probe(path)
    assert info.video and info.video.codec == "h264" and (info.video.width, info.video.height) == (1280, 720)
    assert info.audio and info.audio.codec == "aac" and info.audio.sample_rate == 48000
    video_s, audio_s = stream_durations(path)
    assert abs(video_s - audio_s) <= 1 / get_settings().fps + 1e-3
    assert len(result.scenes) == 3 and abs(sum(s.duration for s in result.scenes) - video_s) < 0.05
    assert result.rendered_by == "local"
    assert storage().exists(result.srt) and storage().exists(result.vtt) and storage().exists(result.poster)
    for scene in result.scenes:  # each render kept its clip's video parameters, for the join to compare
        kept = json.loads(storage().get_bytes(video_facts_key(scene.clip)))
        assert kept == asdict(probe(Path(storage().path(scene.clip))).video), kept
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
    assert run.name == run_name(str(run.id), run.parameters) == f"{str(run.id)[:8]}-a-red-fox-trots", run.name

    after_first = CALLS.copy()
    again = narrative(request(), return_state=True)
    assert again.is_completed(), again.message
    assert CALLS == after_first, "a repeated request must not call any provider"
    states = task_states(again)
    cached = [name for name in states if name.startswith(("image-", "voice-", "scene-", "assemble"))]
    assert len(cached) == 10 and all(states[name] == "Cached" for name in cached), states
    assert again.result().video.endswith("video.mp4")


def test_failure_at_assemble_then_rerun_regenerates_no_image_and_no_voice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELFLOW_INJECT_FAULTS", "assemble")
    get_settings.cache_clear()
    req = request(aspect_ratio="9:16")
    failed = narrative(req, return_state=True)
    assert failed.is_failed()
    assert "video_generation failed: injected fault at assemble" in str(failed.message)

    monkeypatch.delenv("REELFLOW_INJECT_FAULTS")
    get_settings.cache_clear()
    before = CALLS.copy()
    resumed = narrative(req, return_state=True)
    assert resumed.is_completed(), resumed.message
    assert CALLS == before, "resuming must reuse every image and narration"
    info = probe(Path(storage().path(resumed.result().video)))
    assert info.video and (info.video.width, info.video.height) == (720, 1280)


def test_fatal_provider_error_fails_fast_with_stage_and_scene(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELFLOW_INJECT_FAULTS", "speak")
    get_settings.cache_clear()
    state = narrative(request(aspect_ratio="1:1"), return_state=True)
    assert state.is_failed()
    assert "speech_generation failed for scene" in str(state.message)
    assert "injected fault at speak" in str(state.message)
