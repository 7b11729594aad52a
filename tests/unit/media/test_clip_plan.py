"""Clip plans: sums of the video model's clip lengths that land on the requested duration, to the frame."""

from __future__ import annotations

import pytest

from core import catalog
from media.clip_plan import MIN_LAST_S, plan_clips

KLING = (5.0, 10.0)


@pytest.mark.parametrize("fps", [24, 30])
@pytest.mark.parametrize("duration", [5, 5.5, 7, 10, 12, 12.34, 29.9, 30, 33.3, 60, 99.97, 119.99, 120])
def test_shown_seconds_add_up_to_the_request_to_the_frame(duration: float, fps: int) -> None:
    plan = plan_clips(duration, KLING, fps)
    assert abs(plan.total - duration) <= 0.5 / fps + 1e-9
    assert all(c in KLING for c in plan.clips)
    assert all(abs(s * fps - round(s * fps)) < 1e-6 for s in plan.shown), "whole frames only"
    assert plan.shown[:-1] == plan.clips[:-1], "only the last scene is trimmed"
    assert plan.shown[-1] <= plan.clips[-1] and plan.shown[-1] >= min(MIN_LAST_S, duration)


def test_a_sum_of_clip_lengths_is_used_as_is() -> None:
    plan = plan_clips(30, KLING, 30)
    assert plan.clips == plan.shown and sum(plan.clips) == 30 and len(plan.clips) == 4
    assert plan.clips[0] == 10.0 and plan.clips[-1] == 10.0, "an establishing shot opens, the longest clip closes"


def test_twelve_seconds_is_five_then_ten_trimmed_to_seven() -> None:
    plan = plan_clips(12, KLING, 30)
    assert plan.clips == (5.0, 10.0) and plan.shown == (5.0, 7.0) and plan.total == 12.0


def test_the_smallest_sum_that_reaches_the_request_wins() -> None:
    assert sum(plan_clips(5.5, KLING, 30).clips) == 10.0
    assert sum(plan_clips(100.3, KLING, 30).clips) == 105.0


def test_a_sliver_of_a_last_scene_is_avoided_by_holding_the_last_frame() -> None:
    plan = plan_clips(10.5, (5.0,), 30)  # 15 s would leave a 0.5 s last scene; 10 s + a 0.5 s hold is better
    assert plan.clips == (5.0, 5.0) and plan.shown == (5.0, 5.5)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError):
        plan_clips(10, (), 30)
    with pytest.raises(ValueError):
        plan_clips(0, KLING, 30)


@pytest.mark.parametrize("entry", [m for m in catalog.models_of("video") if not m.retired], ids=lambda m: m.key)
def test_every_catalog_video_row_gets_exact_durations(entry: catalog.ModelEntry) -> None:
    """From the row's shortest clip (the movie contract's minimum) up to 120 s, every duration lands to the frame."""
    shortest = min(entry.clip_lengths)
    for duration in (shortest, shortest + 0.5, 12, 30, 47.3, 120):
        plan = plan_clips(duration, entry.clip_lengths, 30)
        assert abs(plan.total - duration) <= 0.5 / 30 + 1e-9, (entry.key, duration, plan)
        assert set(plan.clips) <= set(entry.clip_lengths), (entry.key, duration)


def test_veo_twelve_seconds_is_four_then_eight() -> None:
    plan = plan_clips(12, (4.0, 6.0, 8.0), 30)
    assert plan.clips == (4.0, 8.0)
    assert plan.shown == (4.0, 8.0)
