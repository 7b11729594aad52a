"""Edits on the local renderers, counting provider calls in-process: one scene of ten rerolled is one image call,
a new line is one voice call, a movie with a new line keeps its exact length, and a caller's clip is used as is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from core.contract import parse_movie, parse_narrative
from core.edits import EditPlan, parse_edit, plan_edit
from core.results import VideoResult
from core.settings import get_settings
from flows.movie import movie
from flows.narrative import narrative
from media.probe import probe, stream_durations
from providers.registry import CALLS
from tasks.common import storage
from tests.fakes.media import mp4

LINES = [f"Scene {i}: a lantern drifts past the old mill." for i in range(1, 11)]


def edit_of(result: VideoResult, scenes: dict[str, Any], generative: bool = False) -> EditPlan:
    """The plan ``/edit`` would build for ``result`` (the run id stands in for the request id)."""
    clips = {s.index: s.clip for s in result.scenes}
    return plan_edit(parse_edit({"request_id": "original", "scenes": scenes}), None, clips, generative)


def run(flow: Any, request: Any, edit: EditPlan | None = None) -> tuple[VideoResult, dict[str, int]]:
    before = CALLS.copy()
    state = flow(request, edit, return_state=True)
    assert state.is_completed(), state.message
    return state.result(), {kind: CALLS[kind] - before[kind] for kind in ("image", "speech", "video")}


def narration_tracks() -> set[str]:
    """The whole-video narration tracks in the cache (``tasks.narration.narration_key``: the only AAC files there)."""
    store = storage()
    return {str(p) for p in Path(store.root, "cache").glob("*/*.m4a")}


def test_rerolling_one_of_ten_images_is_one_image_call() -> None:
    request = parse_narrative({"input": {"prompt_list": LINES, "image_model": "FLUX1.1PRO"}})
    first, cold = run(narrative, request)
    assert cold == {"image": 10, "speech": 10, "video": 0}
    tracks = narration_tracks()
    edited, calls = run(narrative, request, edit_of(first, {"4": {"reroll": "image"}}))
    assert calls == {"image": 1, "speech": 0, "video": 0}
    assert narration_tracks() == tracks, "a picture-only edit reuses the whole narration track"
    assert [s.reused for s in edited.scenes] == [i != 4 for i in range(1, 11)]
    assert edited.edited_from == "original"
    assert edited.scenes[3].image != first.scenes[3].image
    assert [s.image for i, s in enumerate(edited.scenes) if i != 3] == [
        s.image for i, s in enumerate(first.scenes) if i != 3]


def test_a_new_line_is_one_voice_call_and_moves_only_its_scene() -> None:
    request = parse_narrative({"input": {"prompt_list": LINES[:3], "image_model": "FLUX1.1PRO"}})
    first, _ = run(narrative, request)
    tracks = narration_tracks()
    line = "And then, quite unexpectedly, the lantern rises into the starry sky above the mill pond."
    edited, calls = run(narrative, request, edit_of(first, {"2": {"text": line}}))
    assert calls == {"image": 0, "speech": 1, "video": 0}
    assert len(narration_tracks() - tracks) == 1, "a new line makes one new narration track"
    assert edited.scenes[1].text == line and edited.scenes[1].image == first.scenes[1].image
    assert [s.duration for s in edited.scenes][::2] == [s.duration for s in first.scenes][::2]
    grown = edited.scenes[1].duration - first.scenes[1].duration
    assert grown > 0.5, "a longer line makes a longer scene"
    assert abs(edited.duration - first.duration - grown) <= 2 / 30


def test_a_movie_with_a_new_line_keeps_its_exact_length() -> None:
    request = parse_movie({"input": {"prompt": "A paper kite climbs over a windy beach, loops, and lands softly.",
                                     "image_model": "FLUX1.1PRO", "video_model": "KLINGIMGTOVIDPRO",
                                     "duration": 15.0}})
    first, _ = run(movie, request)
    long_line = " ".join(["The kite keeps climbing higher and higher over the endless golden dunes."] * 3)
    edited, calls = run(movie, request, edit_of(first, {"1": {"text": long_line}, "2": {"reroll": "clip"}}, True))
    assert calls == {"image": 0, "speech": 1, "video": 0}, "offline, the scene render makes the (new) motion itself"
    video_s, audio_s = stream_durations(Path(storage().path(edited.video)))
    assert abs(video_s - 15.0) <= 0.1 and abs(audio_s - 15.0) <= 0.1
    assert [s.duration for s in edited.scenes] == [s.duration for s in first.scenes]
    assert [s.reused for s in edited.scenes] == [False, False]


def test_a_callers_clip_is_the_scenes_video(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELFLOW_WEBHOOK_ALLOW_PRIVATE", "true")  # the test server listens on 127.0.0.1
    get_settings.cache_clear()
    httpserver.expect_request("/clip.mp4").respond_with_data(mp4(3.0), content_type="video/mp4")
    request = parse_narrative({"input": {"image_model": "FLUX1.1PRO", "prompt_list": [
        "A calm opening.", {"text": "The caller's own footage.", "video_url": httpserver.url_for("/clip.mp4")}]}})
    result, calls = run(narrative, request)
    assert calls == {"image": 2, "speech": 2, "video": 0}, "a caller's clip needs no video model"
    assert result.scenes[0].video is None
    assert result.scenes[1].video is not None
    assert storage().get_bytes(result.scenes[1].video) == mp4(3.0)
    assert result.scenes[1].rendered_by["video"] == "caller"
    info = probe(Path(storage().path(result.scenes[1].clip)))
    assert info.video is not None and (info.video.width, info.video.height) == (1280, 720)
