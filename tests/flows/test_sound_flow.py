"""Music and caption styles through the narrative flow on the local renderers (issue 16).

A job with music and karaoke captions composes its bed once; a rerun calls no provider at all (the music counter
included) and finds every asset task Cached. A caller's own track comes through the track host (a real HTTP server)
and is fitted to the video; a rerun does not fetch it again; a file that is no music fails the job naming music.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.states import State

from core.contract import parse_narrative
from core.settings import get_settings
from flows.narrative import narrative
from media.music import render_music
from media.probe import probe
from providers.registry import CALLS
from tasks.common import storage
from tests.fakes.track_server import Served, TrackServer, track_server

LINES = ["A lantern glows on a quiet pier.", "Boats rock gently in the dark."]


def request(lines: list[str], **extra: Any) -> Any:
    return parse_narrative({"input": {"prompt_list": lines, "image_model": "FLUX1.1PRO", **extra}})


def task_states(state: State[Any]) -> dict[str, str]:
    with get_client(sync_client=True) as client:
        only_this_run = FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
        runs = client.read_task_runs(flow_run_filter=only_this_run)
    return {run.name: run.state.name for run in runs if run.state}


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> Iterator[TrackServer]:
    monkeypatch.setenv("REELFLOW_MUSIC_URL_ALLOW_PRIVATE", "true")  # the track host listens on 127.0.0.1
    get_settings.cache_clear()
    with track_server() as server:
        yield server


def test_music_and_karaoke_are_made_once_and_a_rerun_calls_nothing() -> None:
    req = request(LINES, music={"mood": "calm"}, captions={"style": "karaoke"})
    before = CALLS.copy()
    first = narrative(req, return_state=True)
    assert first.is_completed(), first.message
    assert CALLS["music"] - before["music"] == 1
    assert task_states(first)["music"] == "Completed", "the bed is made by its own task run, in the narration's"

    after_first = CALLS.copy()
    again = narrative(req, return_state=True)
    assert again.is_completed(), again.message
    assert CALLS == after_first, "a repeated request must not call any provider, music included"
    states = task_states(again)
    assets = {name: state for name, state in states.items() if name not in ("plan-scenes", "publish")}
    # the narration track (voice + bed) is reused whole, so its music task does not even run
    assert sorted(assets) == ["assemble", "image-1", "image-2", "narration", "scene-1", "scene-2", "voice-1",
                              "voice-2"]
    assert set(assets.values()) == {"Cached"}, states


def test_a_caller_track_is_fetched_once_and_fitted_under_the_video(host: TrackServer) -> None:
    url = host.put("/bed.wav", Served(render_music("dark", 5, 3.5)))  # shorter than the video: it gets looped
    req = request(LINES[:1], music={"url": url, "volume": 0.8})
    done = narrative(req, return_state=True)
    assert done.is_completed(), done.message
    audio = probe(Path(storage().path(done.result().video))).audio
    assert audio is not None and audio.sample_rate == 48000
    assert narrative(req, return_state=True).is_completed()
    assert host.calls["/bed.wav"] == 1, "a rerun must reuse the fitted bed"


def test_a_caller_file_that_is_not_music_fails_naming_music(host: TrackServer) -> None:
    url = host.put("/notes.mp3", Served(b"these are my notes, not a song\n" * 200, "audio/mpeg"))
    failed = narrative(request(LINES[:1], music={"url": url}), return_state=True)
    assert failed.is_failed()
    assert "music failed: music.url (127.0.0.1/notes.mp3) cannot be used" in str(failed.message)
